import t from 'tap'
import { convergence } from './testing-convergence.ts'

/**
 * Randomized convergence with Exchange (testing-convergence.ts says how
 * and what is checked). The suite's size keeps it to a couple of minutes on
 * two cores; scripts/sync-convergence exchange runs thousands of edits.
 */
// A fixed seed until the bigger runs have passed again (docs/performance.md, issue 11): the
// findings of seeds 680402, 4242 (a series moved in the CRM stayed put in Outlook) and 866362
// (a deleted event came back) are fixed and pinned in ews-found-by-convergence.test.ts.
// KALENDS_SEED=random explores; any other KALENDS_SEED replays.
const SEED = process.env.KALENDS_SEED === 'random' ? Math.floor(Math.random() * 1_000_000) : Number(process.env.KALENDS_SEED ?? 634632)
const ROUNDS = Number(process.env.KALENDS_CONVERGENCE_ROUNDS ?? 10)
const OPS = Number(process.env.KALENDS_CONVERGENCE_OPS ?? 10)

t.test(`random edits in the CRM and in Outlook converge, with Exchange\'s faults (seed ${SEED})`, async t => {
  await convergence(t, { providers: ['exchange'], seed: SEED, rounds: ROUNDS, ops: OPS })
})
