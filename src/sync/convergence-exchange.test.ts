import t from 'tap'
import { convergence } from './testing-convergence.ts'

/**
 * Randomized convergence with Exchange (testing-convergence.ts says how
 * and what is checked). The suite's size keeps it to a couple of minutes on
 * two cores; scripts/sync-convergence exchange runs thousands of edits.
 */
const SEED = Number(process.env.KALENDS_SEED ?? Math.floor(Math.random() * 1_000_000))
const ROUNDS = Number(process.env.KALENDS_CONVERGENCE_ROUNDS ?? 10)
const OPS = Number(process.env.KALENDS_CONVERGENCE_OPS ?? 10)

t.test(`random edits in the CRM and in Outlook converge, with Exchange\'s faults (seed ${SEED})`, async t => {
  await convergence(t, { providers: ['exchange'], seed: SEED, rounds: ROUNDS, ops: OPS })
})
