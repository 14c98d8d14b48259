import t from 'tap'
import { workersScenario } from './testing-worker.ts'

workersScenario(t, 'exchange')
