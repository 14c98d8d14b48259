/**
 * The texts of the Microsoft 365 card's certificate and "Test connection"
 * (Admin → Integrations), in every language of the pages.
 */
export const graphCertMessages = {
  en: {
    'mscert.file': 'Or choose the PEM file(s)',
    'mscert.hint': 'The certificate uploaded to the app in Azure (-----BEGIN CERTIFICATE-----) followed by its private key without a password (-----BEGIN PRIVATE KEY-----). Used instead of the secret when both are stored.',
    'mscert.testHeading': 'Test connection',
    'mscert.testText': 'Signs in as the app with what is typed above (or stored), then opens your own calendar with the app\'s permissions. Nothing is saved.',
    'mscert.test': 'Test connection',
    'mscert.result.ok': 'Microsoft 365 accepted the app\'s credentials and opened the calendar of {mailbox}.',
    'mscert.result.credentialsOnly': 'Microsoft 365 accepted the app\'s credentials, but the calendar of {mailbox} is not open to the app (needed only for the organisation-wide set-up): {reason}',
    'mscert.result.refused': 'Microsoft 365 refused the app\'s sign-in: {reason}'
  },
  pl: {
    'mscert.file': 'Lub wybierz plik(i) PEM',
    'mscert.hint': 'Certyfikat przesłany do aplikacji w Azure (-----BEGIN CERTIFICATE-----), a po nim jego klucz prywatny bez hasła (-----BEGIN PRIVATE KEY-----). Używany zamiast klucza tajnego, gdy zapisane są oba.',
    'mscert.testHeading': 'Test połączenia',
    'mscert.testText': 'Loguje się jako aplikacja danymi wpisanymi powyżej (lub zapisanymi), a potem otwiera Twój kalendarz z uprawnieniami aplikacji. Nic nie jest zapisywane.',
    'mscert.test': 'Testuj połączenie',
    'mscert.result.ok': 'Microsoft 365 przyjął dane uwierzytelniające aplikacji i otworzył kalendarz {mailbox}.',
    'mscert.result.credentialsOnly': 'Microsoft 365 przyjął dane uwierzytelniające aplikacji, ale kalendarz {mailbox} nie jest dla niej dostępny (potrzebne tylko przy konfiguracji dla całej organizacji): {reason}',
    'mscert.result.refused': 'Microsoft 365 odmówił logowania aplikacji: {reason}'
  },
  ro: {
    'mscert.file': 'Sau alegeți fișierul (fișierele) PEM',
    'mscert.hint': 'Certificatul încărcat la aplicație în Azure (-----BEGIN CERTIFICATE-----), urmat de cheia sa privată fără parolă (-----BEGIN PRIVATE KEY-----). Folosit în locul secretului când sunt salvate amândouă.',
    'mscert.testHeading': 'Testarea conexiunii',
    'mscert.testText': 'Se autentifică drept aplicație cu ce este scris mai sus (sau salvat), apoi deschide propriul dvs. calendar cu permisiunile aplicației. Nu se salvează nimic.',
    'mscert.test': 'Testați conexiunea',
    'mscert.result.ok': 'Microsoft 365 a acceptat datele de autentificare ale aplicației și a deschis calendarul lui {mailbox}.',
    'mscert.result.credentialsOnly': 'Microsoft 365 a acceptat datele de autentificare ale aplicației, dar calendarul lui {mailbox} nu este deschis aplicației (necesar doar pentru configurarea la nivelul organizației): {reason}',
    'mscert.result.refused': 'Microsoft 365 a refuzat autentificarea aplicației: {reason}'
  },
  ru: {
    'mscert.file': 'Или выберите файл(ы) PEM',
    'mscert.hint': 'Сертификат, загруженный в приложение в Azure (-----BEGIN CERTIFICATE-----), а за ним его закрытый ключ без пароля (-----BEGIN PRIVATE KEY-----). Используется вместо секрета, если сохранены оба.',
    'mscert.testHeading': 'Проверка подключения',
    'mscert.testText': 'Входит от имени приложения с данными, введёнными выше (или сохранёнными), затем открывает ваш календарь с разрешениями приложения. Ничего не сохраняется.',
    'mscert.test': 'Проверить подключение',
    'mscert.result.ok': 'Microsoft 365 принял учётные данные приложения и открыл календарь {mailbox}.',
    'mscert.result.credentialsOnly': 'Microsoft 365 принял учётные данные приложения, но календарь {mailbox} для приложения закрыт (это нужно только для подключения всей организации): {reason}',
    'mscert.result.refused': 'Microsoft 365 отказал приложению во входе: {reason}'
  },
  nl: {
    'mscert.file': 'Of kies het PEM-bestand (of de bestanden)',
    'mscert.hint': 'Het certificaat dat in Azure bij de app is geüpload (-----BEGIN CERTIFICATE-----), gevolgd door de persoonlijke sleutel zonder wachtwoord (-----BEGIN PRIVATE KEY-----). Wordt gebruikt in plaats van het geheim als beide zijn opgeslagen.',
    'mscert.testHeading': 'Verbinding testen',
    'mscert.testText': 'Meldt zich aan als de app met wat hierboven is ingevuld (of opgeslagen) en opent daarna uw eigen agenda met de machtigingen van de app. Er wordt niets opgeslagen.',
    'mscert.test': 'Verbinding testen',
    'mscert.result.ok': 'Microsoft 365 heeft de referenties van de app aanvaard en de agenda van {mailbox} geopend.',
    'mscert.result.credentialsOnly': 'Microsoft 365 heeft de referenties van de app aanvaard, maar de agenda van {mailbox} is niet open voor de app (alleen nodig voor de inrichting voor de hele organisatie): {reason}',
    'mscert.result.refused': 'Microsoft 365 heeft de aanmelding van de app geweigerd: {reason}'
  }
}
