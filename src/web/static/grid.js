// The calendar grid: FullCalendar over the server-rendered lists (which stay for pages without scripts).
// Events come from /calendar/events; a drag, a resize or a selected range goes back to the server, which
// applies the same domain rules as the forms. A refusal shows its reason and puts the item back.
(function () {
  const el = document.getElementById('grid')
  if (el === null || typeof FullCalendar === 'undefined') return
  const d = el.dataset
  const status = document.getElementById('grid-status')
  const say = (text, bad) => {
    status.textContent = text
    status.className = 'grid-status ' + (bad ? 'error' : 'notice')
  }
  const pad = n => String(n).padStart(2, '0')
  // wall-clock parts of an instant in the user's zone, for the new-appointment form
  const wall = date => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: d.zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(date).map(x => [x.type, x.value]))
    return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` }
  }
  const addDay = (day, n) => {
    const t = new Date(day + 'T00:00:00Z')
    t.setUTCDate(t.getUTCDate() + n)
    return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`
  }

  async function move (info) {
    const e = info.event
    const x = e.extendedProps
    const body = new URLSearchParams({ _csrf: d.csrf, kind: x.kind, id: String(x.itemId), part: x.part, allDay: e.allDay ? '1' : '' })
    // one occurrence of a series: the server changes that occurrence alone
    if (x.occurrence) body.set('occurrence', x.occurrence)
    if (e.allDay) {
      const start = e.startStr.slice(0, 10)
      body.set('start', start)
      body.set('end', e.end === null ? addDay(start, 1) : e.endStr.slice(0, 10))
    } else {
      body.set('start', e.start.toISOString())
      body.set('end', (e.end ?? new Date(e.start.getTime() + 3600_000)).toISOString())
    }
    let answer = { ok: false, reason: '' }
    try {
      const res = await fetch('/calendar/move', { method: 'POST', body, headers: { accept: 'application/json' }, credentials: 'same-origin' })
      answer = res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : { ok: false, reason: res.statusText }
    } catch (err) {
      answer = { ok: false, reason: String(err.message ?? err) }
    }
    if (answer.ok === true) {
      say(d.saved.replace('{title}', e.title), false)
      calendar.refetchEvents()
    } else {
      info.revert()
      say(d.refused.replace('{reason}', answer.reason), true)
    }
  }

  const narrow = window.matchMedia('(max-width: 40rem)').matches
  const calendar = new FullCalendar.Calendar(el, {
    initialView: narrow && d.view === 'timeGridWeek' ? 'timeGridDay' : d.view,
    initialDate: d.date,
    timeZone: d.zone,
    locale: d.locale,
    firstDay: Number(d.firstDay),
    height: 'auto',
    // the day, week and month links above the grid are the page's own (they work without scripts too)
    headerToolbar: { start: 'prev,next today', center: 'title', end: '' },
    todayText: d.today,
    // the button's name is the text it shows (WCAG 2.5.3)
    todayHint: d.today,
    dayText: d.day,
    weekTextLong: d.week,
    monthText: d.month,
    allDayText: d.allDay,
    nowIndicator: true,
    editable: true,
    selectable: true,
    selectMirror: true,
    dayMaxEvents: true,
    // other months' days stay blank rather than faint (their greyed numbers fail contrast)
    showNonCurrentDates: false,
    fixedWeekCount: false,
    scrollTime: d.workStart,
    slotEventOverlap: false,
    businessHours: { daysOfWeek: d.workDays.split(',').filter(Boolean).map(Number), startTime: d.workStart, endTime: d.workEnd },
    eventTimeFormat: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
    slotHeaderFormat: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
    events: { url: '/calendar/events' },
    eventContent: arg => {
      const box = document.createElement('div')
      box.className = 'card-body'
      if (arg.timeText) {
        const time = document.createElement('span')
        time.className = 'fc-time'
        time.textContent = arg.timeText
        box.append(time, ' ')
      }
      const title = document.createElement('strong')
      title.textContent = arg.event.title
      box.append(title)
      for (const line of arg.event.extendedProps.details ?? []) {
        const p = document.createElement('span')
        p.className = 'detail'
        p.textContent = line
        box.append(p)
      }
      return { domNodes: [box] }
    },
    eventDidMount: arg => {
      const x = arg.event.extendedProps
      arg.el.dataset.kind = x.kind
      arg.el.dataset.itemId = String(x.itemId)
      arg.el.dataset.part = x.part
    },
    eventDrop: move,
    eventResize: move,
    select: info => {
      const q = new URLSearchParams()
      if (info.allDay) {
        q.set('date', info.startStr.slice(0, 10))
        q.set('endDate', addDay(info.endStr.slice(0, 10), -1))
        q.set('allDay', '1')
      } else {
        const s = wall(info.start)
        const e = wall(info.end)
        q.set('date', s.date)
        q.set('start', s.time)
        q.set('endDate', e.date)
        q.set('end', e.time)
      }
      window.location.assign('/appointments/new?' + q)
    }
  })
  el.hidden = false
  for (const f of document.querySelectorAll('.fallback')) f.hidden = true
  calendar.render()
})()
