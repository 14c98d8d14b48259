/**
 * Texts of the calendar grid, recurring appointments, types, calendars and
 * the sync badge (issue 16), in the five languages of the CRM's offices.
 */
const en = {
  'grid.label': 'Calendar',
  'grid.refused': 'Not moved: {reason}',
  'grid.saved': 'Moved: {title}',
  'grid.case': 'Case: {case}',
  'grid.type': 'Type: {type}',
  'grid.location': 'Location: {location}',
  'grid.participants': 'With: {names}',
  'grid.assignee': 'Assigned to: {name}',
  'grid.due': 'Due: {title}',
  'grid.dueAt': 'due at {time}',
  'grid.planned': 'Planned: {title}',
  'grid.badRange': 'Ask for a range of at most two months, start before end.',
  'grid.badMove': 'That move cannot be read; reload the page and try again.',
  'grid.day': 'Day',
  'grid.dayTitle': '{date}',
  'grid.prevDay': 'Previous day',
  'grid.nextDay': 'Next day',
  'grid.week': 'Week',
  'grid.month': 'Month',
  'grid.today': 'Today',
  'grid.allDay': 'All day'
}

type Table = Record<keyof typeof en, string>

const pl: Table = {
  'grid.label': 'Kalendarz',
  'grid.refused': 'Nie przeniesiono: {reason}',
  'grid.saved': 'Przeniesiono: {title}',
  'grid.case': 'Sprawa: {case}',
  'grid.type': 'Typ: {type}',
  'grid.location': 'Miejsce: {location}',
  'grid.participants': 'Uczestnicy: {names}',
  'grid.assignee': 'Przypisane do: {name}',
  'grid.due': 'Termin: {title}',
  'grid.dueAt': 'termin o {time}',
  'grid.planned': 'Zaplanowane: {title}',
  'grid.badRange': 'Podaj zakres najwyżej dwóch miesięcy, początek przed końcem.',
  'grid.badMove': 'Nie można odczytać przeniesienia; odśwież stronę i spróbuj ponownie.',
  'grid.day': 'Dzień',
  'grid.dayTitle': '{date}',
  'grid.prevDay': 'Poprzedni dzień',
  'grid.nextDay': 'Następny dzień',
  'grid.week': 'Tydzień',
  'grid.month': 'Miesiąc',
  'grid.today': 'Dziś',
  'grid.allDay': 'Cały dzień'
}

const ro: Table = {
  'grid.label': 'Calendar',
  'grid.refused': 'Nu a fost mutat: {reason}',
  'grid.saved': 'Mutat: {title}',
  'grid.case': 'Dosar: {case}',
  'grid.type': 'Tip: {type}',
  'grid.location': 'Loc: {location}',
  'grid.participants': 'Cu: {names}',
  'grid.assignee': 'Atribuită lui: {name}',
  'grid.due': 'Termen: {title}',
  'grid.dueAt': 'termen la {time}',
  'grid.planned': 'Planificat: {title}',
  'grid.badRange': 'Cereți un interval de cel mult două luni, cu începutul înaintea sfârșitului.',
  'grid.badMove': 'Mutarea nu poate fi citită; reîncărcați pagina și încercați din nou.',
  'grid.day': 'Zi',
  'grid.dayTitle': '{date}',
  'grid.prevDay': 'Ziua anterioară',
  'grid.nextDay': 'Ziua următoare',
  'grid.week': 'Săptămână',
  'grid.month': 'Lună',
  'grid.today': 'Astăzi',
  'grid.allDay': 'Toată ziua'
}

const ru: Table = {
  'grid.label': 'Календарь',
  'grid.refused': 'Не перенесено: {reason}',
  'grid.saved': 'Перенесено: {title}',
  'grid.case': 'Дело: {case}',
  'grid.type': 'Тип: {type}',
  'grid.location': 'Место: {location}',
  'grid.participants': 'Участники: {names}',
  'grid.assignee': 'Исполнитель: {name}',
  'grid.due': 'Срок: {title}',
  'grid.dueAt': 'срок в {time}',
  'grid.planned': 'План: {title}',
  'grid.badRange': 'Запросите период не длиннее двух месяцев, начало раньше конца.',
  'grid.badMove': 'Перенос не удалось прочитать; обновите страницу и попробуйте снова.',
  'grid.day': 'День',
  'grid.dayTitle': '{date}',
  'grid.prevDay': 'Предыдущий день',
  'grid.nextDay': 'Следующий день',
  'grid.week': 'Неделя',
  'grid.month': 'Месяц',
  'grid.today': 'Сегодня',
  'grid.allDay': 'Весь день'
}

const nl: Table = {
  'grid.label': 'Agenda',
  'grid.refused': 'Niet verplaatst: {reason}',
  'grid.saved': 'Verplaatst: {title}',
  'grid.case': 'Zaak: {case}',
  'grid.type': 'Type: {type}',
  'grid.location': 'Locatie: {location}',
  'grid.participants': 'Met: {names}',
  'grid.assignee': 'Toegewezen aan: {name}',
  'grid.due': 'Deadline: {title}',
  'grid.dueAt': 'deadline om {time}',
  'grid.planned': 'Gepland: {title}',
  'grid.badRange': 'Vraag een periode van hoogstens twee maanden, begin vóór einde.',
  'grid.badMove': 'Die verplaatsing is niet te lezen; laad de pagina opnieuw en probeer het nog eens.',
  'grid.day': 'Dag',
  'grid.dayTitle': '{date}',
  'grid.prevDay': 'Vorige dag',
  'grid.nextDay': 'Volgende dag',
  'grid.week': 'Week',
  'grid.month': 'Maand',
  'grid.today': 'Vandaag',
  'grid.allDay': 'Hele dag'
}

export const gridMessages = { en, pl, ro, ru, nl }
