/**
 * Texts of the last pieces of the web pages (issue 16): working hours on the
 * profile page and the items left during a sync run, in the five languages.
 */
const en = {
  'finish.hours': 'Working hours',
  'finish.hoursHint': 'The calendar grid shades the hours and days outside these, in your time zone.',
  'finish.workStart': 'Working day starts',
  'finish.workEnd': 'Working day ends',
  'finish.workDays': 'Working days',
  'finish.hoursSaved': 'Your working hours are saved.',
  'rule.work-end-after-start': 'The working day must end after it starts.',
  'rule.work-days': 'Choose at least one working day.',
  'finish.progressLeft': 'Syncing: {read} read, {written} written so far, {left} left…'
}

const pl: typeof en = {
  'finish.hours': 'Godziny pracy',
  'finish.hoursHint': 'Siatka kalendarza zaciemnia godziny i dni poza nimi, w Twojej strefie czasowej.',
  'finish.workStart': 'Początek dnia pracy',
  'finish.workEnd': 'Koniec dnia pracy',
  'finish.workDays': 'Dni pracy',
  'finish.hoursSaved': 'Twoje godziny pracy zostały zapisane.',
  'rule.work-end-after-start': 'Dzień pracy musi kończyć się po jego rozpoczęciu.',
  'rule.work-days': 'Wybierz co najmniej jeden dzień pracy.',
  'finish.progressLeft': 'Synchronizacja: dotąd odczytano {read}, zapisano {written}, pozostało {left}…'
}

const ro: typeof en = {
  'finish.hours': 'Program de lucru',
  'finish.hoursHint': 'Grila calendarului umbrește orele și zilele din afara acestuia, în fusul dumneavoastră orar.',
  'finish.workStart': 'Începutul zilei de lucru',
  'finish.workEnd': 'Sfârșitul zilei de lucru',
  'finish.workDays': 'Zile lucrătoare',
  'finish.hoursSaved': 'Programul de lucru a fost salvat.',
  'rule.work-end-after-start': 'Ziua de lucru trebuie să se termine după ce începe.',
  'rule.work-days': 'Alegeți cel puțin o zi lucrătoare.',
  'finish.progressLeft': 'Sincronizare: până acum {read} citite, {written} scrise, {left} rămase…'
}

const ru: typeof en = {
  'finish.hours': 'Рабочие часы',
  'finish.hoursHint': 'Сетка календаря затеняет часы и дни вне них, в вашем часовом поясе.',
  'finish.workStart': 'Начало рабочего дня',
  'finish.workEnd': 'Конец рабочего дня',
  'finish.workDays': 'Рабочие дни',
  'finish.hoursSaved': 'Ваши рабочие часы сохранены.',
  'rule.work-end-after-start': 'Рабочий день должен заканчиваться после начала.',
  'rule.work-days': 'Выберите хотя бы один рабочий день.',
  'finish.progressLeft': 'Синхронизация: пока прочитано {read}, записано {written}, осталось {left}…'
}

const nl: typeof en = {
  'finish.hours': 'Werktijden',
  'finish.hoursHint': 'Het kalenderrooster kleurt de uren en dagen daarbuiten grijs, in uw tijdzone.',
  'finish.workStart': 'Werkdag begint',
  'finish.workEnd': 'Werkdag eindigt',
  'finish.workDays': 'Werkdagen',
  'finish.hoursSaved': 'Uw werktijden zijn opgeslagen.',
  'rule.work-end-after-start': 'De werkdag moet eindigen nadat hij begint.',
  'rule.work-days': 'Kies ten minste één werkdag.',
  'finish.progressLeft': 'Synchroniseren: tot nu toe {read} gelezen, {written} geschreven, nog {left} te gaan…'
}

export const finishMessages = { en, pl, ro, ru, nl }
