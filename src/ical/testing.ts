/** Test helper: a VCALENDAR from component bodies given as arrays of content lines. */
export function cal(...components: string[][]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Kalends tests//EN', ...components.flat(), 'END:VCALENDAR', ''].join('\r\n');
}

export function vevent(...lines: string[]): string[] {
  return ['BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT'];
}

export function vtodo(...lines: string[]): string[] {
  return ['BEGIN:VTODO', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VTODO'];
}

export const d = (iso: string): Date => new Date(iso);

/** The IcalError code fn throws, 'ok' if it returns, or a description of any other throw. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return e instanceof Error && e.name === 'IcalError' && typeof code === 'string' ? code : `other: ${String(e)}`;
  }
}
