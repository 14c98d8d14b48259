import t from 'tap'
import { crashScenario } from './testing-crash.ts'

crashScenario(t, 'graph')
