import t from 'tap'
import { convergence } from './testing-convergence.ts'

/**
 * Randomized convergence with Microsoft 365 over Graph, alone and with
 * Google connected for the same users at once (testing-convergence.ts says
 * how and what is checked, and the bound on API calls per change). Sized to
 * stay well under a minute and a half on PGlite on a busy machine;
 * scripts/sync-convergence graph (or google+graph) runs thousands of edits.
 * Fixed seeds; KALENDS_SEED=random explores, any other KALENDS_SEED replays.
 */
const SEED = process.env.KALENDS_SEED === 'random' ? Math.floor(Math.random() * 1_000_000) : Number(process.env.KALENDS_SEED ?? 120512)
const ROUNDS = Number(process.env.KALENDS_CONVERGENCE_ROUNDS ?? 8)
const OPS = Number(process.env.KALENDS_CONVERGENCE_OPS ?? 8)

t.test(`random edits in the CRM and in Outlook and To Do converge, with Graph's faults (seed ${SEED})`, async t => {
  await convergence(t, { providers: ['graph'], seed: SEED, rounds: ROUNDS, ops: OPS })
})

t.test(`Google and Microsoft 365 connected for the same users at once: random edits on all three sides converge (seed ${SEED + 1})`, async t => {
  await convergence(t, { providers: ['google', 'graph'], seed: SEED + 1, rounds: ROUNDS, ops: OPS })
})
