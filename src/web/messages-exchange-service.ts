/** Exchange's service-account mode (every user's mailbox without asking them) and SOAP Autodiscover: admin card and connections page. */
export const exchangeServiceMessages = {
  en: {
    'exchange.ewsUrlAuto': 'Leave it empty to find each mailbox’s address with Autodiscover from its e-mail address.',
    'exchange.rollout.running': 'Connecting every user’s mailbox through the service account: {done} of {total} so far ({on} on, {refused} refused).',
    'exchange.rollout.done': 'Every user’s mailbox was gone through on {when}: {on} on, {refused} refused (their reason is on the connection), {stopped} stopped. Users added later are connected, disabled users stopped.',
    'exchange.rollout.failed': 'Connecting the mailboxes stopped: {reason}',
    'exchange.serviceOn': 'Your organisation syncs your Exchange mailbox through its service account: there is nothing for you to enter. You can still choose what is synced in the options below.',
    'exchange.serviceSoon': 'Your organisation syncs every Exchange mailbox through its service account; yours ({account}) is being connected. There is nothing for you to enter.',
    'exchange.result.discovered': 'Autodiscover found {url}. {result}'
  },
  pl: {
    'exchange.ewsUrlAuto': 'Zostaw puste, aby adres każdej skrzynki znalazł Autodiscover na podstawie jej adresu e-mail.',
    'exchange.rollout.running': 'Łączenie skrzynek wszystkich użytkowników przez konto usługi: na razie {done} z {total} ({on} włączonych, {refused} odrzuconych).',
    'exchange.rollout.done': 'Skrzynki wszystkich użytkowników sprawdzono {when}: {on} włączonych, {refused} odrzuconych (powód jest przy połączeniu), {stopped} zatrzymanych. Użytkownicy dodani później są łączeni, wyłączeni zatrzymywani.',
    'exchange.rollout.failed': 'Łączenie skrzynek przerwane: {reason}',
    'exchange.serviceOn': 'Twoja organizacja synchronizuje Twoją skrzynkę Exchange przez swoje konto usługi: nie musisz nic wpisywać. Nadal możesz wybrać w opcjach poniżej, co jest synchronizowane.',
    'exchange.serviceSoon': 'Twoja organizacja synchronizuje wszystkie skrzynki Exchange przez swoje konto usługi; Twoja ({account}) jest właśnie łączona. Nie musisz nic wpisywać.',
    'exchange.result.discovered': 'Autodiscover znalazł {url}. {result}'
  },
  ro: {
    'exchange.ewsUrlAuto': 'Lăsați gol pentru ca Autodiscover să găsească adresa fiecărei cutii poștale după adresa ei de e-mail.',
    'exchange.rollout.running': 'Se conectează cutiile poștale ale tuturor utilizatorilor prin contul de serviciu: {done} din {total} până acum ({on} active, {refused} refuzate).',
    'exchange.rollout.done': 'Cutiile poștale ale tuturor utilizatorilor au fost parcurse la {when}: {on} active, {refused} refuzate (motivul este la conexiune), {stopped} oprite. Utilizatorii adăugați ulterior sunt conectați, cei dezactivați sunt opriți.',
    'exchange.rollout.failed': 'Conectarea cutiilor poștale s-a oprit: {reason}',
    'exchange.serviceOn': 'Organizația dvs. sincronizează cutia poștală Exchange prin contul său de serviciu: nu trebuie introdus nimic. Puteți alege în continuare, în opțiunile de mai jos, ce se sincronizează.',
    'exchange.serviceSoon': 'Organizația dvs. sincronizează toate cutiile poștale Exchange prin contul său de serviciu; a dvs. ({account}) este în curs de conectare. Nu trebuie introdus nimic.',
    'exchange.result.discovered': 'Autodiscover a găsit {url}. {result}'
  },
  ru: {
    'exchange.ewsUrlAuto': 'Оставьте пустым, чтобы Autodiscover находил адрес каждого почтового ящика по его адресу электронной почты.',
    'exchange.rollout.running': 'Подключение почтовых ящиков всех пользователей через служебную учётную запись: пока {done} из {total} ({on} включено, {refused} отклонено).',
    'exchange.rollout.done': 'Почтовые ящики всех пользователей проверены {when}: {on} включено, {refused} отклонено (причина указана у подключения), {stopped} остановлено. Новые пользователи подключаются, отключённые — останавливаются.',
    'exchange.rollout.failed': 'Подключение почтовых ящиков прервано: {reason}',
    'exchange.serviceOn': 'Ваша организация синхронизирует ваш почтовый ящик Exchange через свою служебную учётную запись: вводить ничего не нужно. Что синхронизировать, можно по-прежнему выбрать в параметрах ниже.',
    'exchange.serviceSoon': 'Ваша организация синхронизирует все почтовые ящики Exchange через свою служебную учётную запись; ваш ({account}) сейчас подключается. Вводить ничего не нужно.',
    'exchange.result.discovered': 'Autodiscover нашёл {url}. {result}'
  },
  nl: {
    'exchange.ewsUrlAuto': 'Laat leeg om het adres van elk postvak met Autodiscover te vinden via het e-mailadres.',
    'exchange.rollout.running': 'De postvakken van alle gebruikers worden via het serviceaccount gekoppeld: tot nu toe {done} van {total} ({on} aan, {refused} geweigerd).',
    'exchange.rollout.done': 'De postvakken van alle gebruikers zijn op {when} doorlopen: {on} aan, {refused} geweigerd (de reden staat bij de koppeling), {stopped} gestopt. Later toegevoegde gebruikers worden gekoppeld, uitgeschakelde gestopt.',
    'exchange.rollout.failed': 'Het koppelen van de postvakken is gestopt: {reason}',
    'exchange.serviceOn': 'Uw organisatie synchroniseert uw Exchange-postvak via haar serviceaccount: u hoeft niets in te vullen. Wat er wordt gesynchroniseerd, kiest u nog steeds in de opties hieronder.',
    'exchange.serviceSoon': 'Uw organisatie synchroniseert alle Exchange-postvakken via haar serviceaccount; het uwe ({account}) wordt nu gekoppeld. U hoeft niets in te vullen.',
    'exchange.result.discovered': 'Autodiscover vond {url}. {result}'
  }
}
