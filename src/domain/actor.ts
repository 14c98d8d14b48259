import type { User } from '../db/schema.ts'
import type { Origin } from './journal.ts'

/** Who is acting, and through which door: every domain write takes one. */
export type Actor = { user: User; origin: Origin }
