import { Ajv } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

/**
 * Query strings and path parameters arrive as text, so they are coerced to
 * the schema's types; JSON bodies are not, so `null` stays null and a number
 * sent for a string is refused instead of silently turned into one.
 */
const options = { removeAdditional: false, allErrors: false, strict: false, useDefaults: true } as const
const coercing = new Ajv({ ...options, coerceTypes: 'array' })
const exact = new Ajv({ ...options, coerceTypes: false })

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? exact : coercing).compile(schema) as ReturnType<FastifySchemaCompiler<object>>
