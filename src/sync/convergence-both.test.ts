import t from 'tap'
import { convergence } from './testing-convergence.ts'

/**
 * Randomized convergence with Google and Exchange at once (testing-convergence.ts says how
 * and what is checked). The suite's size keeps it to a couple of minutes on
 * two cores; scripts/sync-convergence both runs thousands of edits.
 */
// A fixed seed until the bigger runs have passed again (docs/performance.md, issue 11): the
// findings of seeds 680402, 4242 (a series moved in the CRM stayed put in Outlook) and 866362
// (a deleted event came back) are fixed and pinned in ews-found-by-convergence.test.ts.
// KALENDS_SEED=random explores; any other KALENDS_SEED replays.
const SEED = process.env.KALENDS_SEED === 'random' ? Math.floor(Math.random() * 1_000_000) : Number(process.env.KALENDS_SEED ?? 833620)
const ROUNDS = Number(process.env.KALENDS_CONVERGENCE_ROUNDS ?? 8)
const OPS = Number(process.env.KALENDS_CONVERGENCE_OPS ?? 10)

t.test(`Google and Exchange connected for the same users at once: random edits on all three sides converge (seed ${SEED})`, async t => {
  await convergence(t, { providers: ['google', 'exchange'], seed: SEED, rounds: ROUNDS, ops: OPS })
})
