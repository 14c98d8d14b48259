/** The push state of an Exchange connection while its stream has not spoken yet (connections page). */
export const exchangePushMessages = {
  en: { 'conn.pushStartingExchange': 'starting: waiting for Exchange’s first notification' },
  pl: { 'conn.pushStartingExchange': 'uruchamianie: czekam na pierwsze powiadomienie z Exchange' },
  ro: { 'conn.pushStartingExchange': 'pornire: se așteaptă prima notificare de la Exchange' },
  ru: { 'conn.pushStartingExchange': 'запуск: ожидается первое уведомление от Exchange' },
  nl: { 'conn.pushStartingExchange': 'starten: wachten op de eerste melding van Exchange' }
}
