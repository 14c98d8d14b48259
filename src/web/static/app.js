// Copy buttons: <button data-copy="input-id"> copies that input's value.
document.addEventListener('click', async event => {
  const button = event.target.closest('button[data-copy]')
  if (button === null) return
  const input = document.getElementById(button.dataset.copy)
  const status = document.getElementById(button.dataset.copy + '-status')
  let ok = false
  try {
    await navigator.clipboard.writeText(input.value)
    ok = true
  } catch {
    input.focus()
    input.select()
    try { ok = document.execCommand('copy') } catch { ok = false }
  }
  if (status !== null) status.textContent = ok ? button.dataset.copied : button.dataset.failed
})

// Forms that undo something ask first: <form data-confirm="Question?">. Without scripts they simply post.
document.addEventListener('submit', event => {
  const form = event.target.closest('form[data-confirm]')
  if (form !== null && !window.confirm(form.dataset.confirm)) event.preventDefault()
})

// The time zone offer of a user who has not chosen one: shown with the browser's zone when it differs from theirs.
for (const offer of document.querySelectorAll('[data-zone-offer]')) {
  let zone = ''
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone } catch { zone = '' }
  if (zone !== '' && zone !== undefined && zone !== offer.dataset.zoneOffer) {
    offer.querySelector('[data-browser-zone]').textContent = zone
    offer.querySelector('[data-browser-zone-input]').value = zone
    offer.hidden = false
  }
}

// "Sync now" on Connections: the run is queued with the form's own POST, then its progress is polled and
// shown in place (items read and written), without a reload. Without scripts the form posts as before.
document.addEventListener('submit', async event => {
  const form = event.target.closest('form[action$="/sync"]')
  if (form === null || event.defaultPrevented) return
  const m = /\/connections\/(\d+)\/sync$/.exec(form.getAttribute('action'))
  if (m === null) return
  event.preventDefault()
  let live = document.getElementById(`sync-live-${m[1]}`)
  if (live === null) {
    live = document.createElement('p')
    live.id = `sync-live-${m[1]}`
    live.className = 'badge wait sync-live'
    live.setAttribute('role', 'status')
    form.closest('.toolbar').after(live)
  }
  const button = form.querySelector('button')
  button.disabled = true
  await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin' })
  const started = Date.now()
  let seenRunning = false
  for (;;) {
    const res = await fetch(`/connections/${m[1]}/progress`, { credentials: 'same-origin', headers: { accept: 'application/json' } })
    const p = await res.json()
    live.textContent = p.text
    live.className = 'badge sync-live ' + (p.running ? 'wait' : p.state === 'error' ? 'bad' : 'good')
    seenRunning ||= p.running
    if ((!p.running && (seenRunning || Date.now() - started > 5000)) || Date.now() - started > 600_000) break
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  button.disabled = false
})

// A file chooser that fills a text field with the files' text: <input type="file" data-fill="textarea-id">. Without scripts the text is pasted.
document.addEventListener('change', async event => {
  const input = event.target.closest('input[type=file][data-fill]')
  if (input === null) return
  const target = document.getElementById(input.dataset.fill)
  const texts = await Promise.all([...input.files].map(file => file.text()))
  target.value = texts.join('\n')
  target.dispatchEvent(new Event('input', { bubbles: true }))
})
