import t from 'tap'
import { convergence } from './testing-convergence.ts'

/**
 * Randomized convergence with Google (testing-convergence.ts says how and
 * what is checked). Defaults keep it under three minutes on two cores;
 * scripts/sync-convergence runs bigger.
 */
const SEED = process.env.KALENDS_SEED === undefined || process.env.KALENDS_SEED === 'random' ? Math.floor(Math.random() * 1_000_000) : Number(process.env.KALENDS_SEED)
const ROUNDS = Number(process.env.KALENDS_CONVERGENCE_ROUNDS ?? 26)
const OPS = Number(process.env.KALENDS_CONVERGENCE_OPS ?? 16)

t.test(`random edits on both sides converge (seed ${SEED})`, async t => {
  await convergence(t, { providers: ['google'], seed: SEED, rounds: ROUNDS, ops: OPS })
  t.ok(ROUNDS * OPS * 3 >= 1000 || process.env.KALENDS_CONVERGENCE_OPS !== undefined || process.env.KALENDS_CONVERGENCE_ROUNDS !== undefined, `${ROUNDS * OPS * 3} operations`)
})
