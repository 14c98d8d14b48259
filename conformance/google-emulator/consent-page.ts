// The HTML of the consent screen and of the OAuth error screen: one form per
// account with an "Allow as <email>" button, and a "Deny" button.
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function consentPage(request: string, emails: string[], clientId: string): string {
  const action = '/o/oauth2/v2/auth/decision';
  const allow = emails
    .map(
      (email) => `<form method="post" action="${action}">
<input type="hidden" name="request" value="${esc(request)}">
<input type="hidden" name="email" value="${esc(email)}">
<button type="submit" name="decision" value="allow">Allow as ${esc(email)}</button>
</form>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Google Accounts (emulator)</title></head>
<body><main>
<h1>Choose an account</h1>
<p>${esc(clientId)} wants to access your Google Account.</p>
${allow || '<p>No accounts. Add one with addAccount.</p>'}
<form method="post" action="${action}">
<input type="hidden" name="request" value="${esc(request)}">
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main></body></html>`;
}

export function errorPage(error: string, description: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error 400: ${esc(error)}</title></head>
<body><main><h1>Access blocked: Authorization Error</h1><p>${esc(description)}</p><p>Error 400: ${esc(error)}</p></main></body></html>`;
}
