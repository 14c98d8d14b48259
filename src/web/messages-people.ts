/** Texts of the Google Contacts push on the Connections page (issue 13), in every language the pages speak. */
export const peopleMessages = {
  en: {
    'conn.contacts': 'Contacts pushed to Google (one way, into the contact group "Kalends")',
    'conn.contacts.off': 'None',
    'conn.contacts.company': "All of the company's contacts",
    'conn.contacts.cases': 'Only the contacts of my cases',
    'conn.contactsHint': 'Edits made in Google are not brought back: the next change in the CRM writes over them.',
    'conn.removeContacts': 'Also remove the contacts copied to Google',
    'admin.delegateContacts': 'The service account may also write contacts (scope https://www.googleapis.com/auth/contacts granted in the domain-wide delegation): Workspace connections can push contacts'
  },
  pl: {
    'conn.contacts': 'Kontakty wysyłane do Google (w jedną stronę, do grupy kontaktów „Kalends”)',
    'conn.contacts.off': 'Żadne',
    'conn.contacts.company': 'Wszystkie kontakty firmy',
    'conn.contacts.cases': 'Tylko kontakty z moich spraw',
    'conn.contactsHint': 'Zmiany wprowadzone w Google nie wracają do CRM: następna zmiana w CRM je nadpisze.',
    'conn.removeContacts': 'Usuń też kontakty skopiowane do Google',
    'admin.delegateContacts': 'Konto usługi może też zapisywać kontakty (zakres https://www.googleapis.com/auth/contacts nadany w przekazywaniu uprawnień w całej domenie): połączenia Workspace mogą wysyłać kontakty'
  },
  ro: {
    'conn.contacts': 'Contacte trimise în Google (într-un singur sens, în grupul de contacte „Kalends”)',
    'conn.contacts.off': 'Niciunul',
    'conn.contacts.company': 'Toate contactele companiei',
    'conn.contacts.cases': 'Doar contactele din dosarele mele',
    'conn.contactsHint': 'Modificările făcute în Google nu sunt aduse înapoi: următoarea modificare din CRM le suprascrie.',
    'conn.removeContacts': 'Șterge și contactele copiate în Google',
    'admin.delegateContacts': 'Contul de serviciu poate scrie și contacte (domeniul https://www.googleapis.com/auth/contacts acordat în delegarea la nivel de domeniu): conexiunile Workspace pot trimite contacte'
  },
  ru: {
    'conn.contacts': 'Контакты, отправляемые в Google (в одну сторону, в группу контактов «Kalends»)',
    'conn.contacts.off': 'Никакие',
    'conn.contacts.company': 'Все контакты компании',
    'conn.contacts.cases': 'Только контакты моих дел',
    'conn.contactsHint': 'Изменения, сделанные в Google, не возвращаются в CRM: следующее изменение в CRM их перезапишет.',
    'conn.removeContacts': 'Удалить и контакты, скопированные в Google',
    'admin.delegateContacts': 'Сервисный аккаунт может также записывать контакты (область https://www.googleapis.com/auth/contacts выдана в делегировании на уровне домена): подключения Workspace могут отправлять контакты'
  },
  nl: {
    'conn.contacts': 'Contacten naar Google gestuurd (één richting, in de contactgroep "Kalends")',
    'conn.contacts.off': 'Geen',
    'conn.contacts.company': 'Alle contacten van het bedrijf',
    'conn.contacts.cases': 'Alleen de contacten van mijn zaken',
    'conn.contactsHint': 'Wijzigingen in Google komen niet terug: de volgende wijziging in het CRM overschrijft ze.',
    'conn.removeContacts': 'Ook de naar Google gekopieerde contacten verwijderen',
    'admin.delegateContacts': 'Het serviceaccount mag ook contacten schrijven (bereik https://www.googleapis.com/auth/contacts toegekend in de domeinbrede delegatie): Workspace-verbindingen kunnen contacten sturen'
  }
}
