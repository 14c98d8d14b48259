/**
 * A feed link's secret is the only credential its subscribers have: it must
 * not land in logs. Every logged URL goes through this.
 */
export function logSafeUrl (url: string): string {
  return url.replace(/^(\/feeds\/)[^/?#.]+/, '$1<secret>')
}
