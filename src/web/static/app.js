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
