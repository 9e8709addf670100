// Small progressive enhancements; every page works without them.
// No inline scripts anywhere: the CSP allows only files from this origin.

// Show timestamps in the reader's own time zone (the server renders UTC).
function localizeTimes(root) {
  for (const el of root.querySelectorAll('time[data-local]')) {
    if (el.dataset.localized) continue;
    const d = new Date(el.getAttribute('datetime'));
    if (!Number.isNaN(d.getTime())) {
      el.title = el.textContent;
      el.textContent = d.toLocaleString();
      el.dataset.localized = '1';
    }
  }
}

// A form may ask to reset itself after htmx submitted it successfully.
document.addEventListener('htmx:afterRequest', (event) => {
  const form = event.target;
  if (event.detail.successful && form instanceof HTMLFormElement && form.dataset.resetOnSuccess !== undefined) form.reset();
});

// Clear the alert region when a later request succeeds, so old errors do not linger.
document.addEventListener('htmx:beforeRequest', () => {
  const flash = document.getElementById('flash');
  if (flash) flash.innerHTML = '';
});

// Buttons with data-confirm ask first (htmx's hx-confirm covers htmx requests; this covers plain forms).
document.addEventListener('submit', (event) => {
  if (event.defaultPrevented) return; // htmx took this submit; its hx-confirm asked already
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// "Open in editor" toggles for inline edits (edit_inline_approve, notes).
document.addEventListener('click', (event) => {
  const toggle = event.target.closest('[data-toggle]');
  if (!toggle) return;
  const target = document.getElementById(toggle.dataset.toggle);
  if (!target) return;
  target.hidden = !target.hidden;
  toggle.setAttribute('aria-expanded', String(!target.hidden));
  if (!target.hidden) target.querySelector('textarea, input')?.focus();
});

document.addEventListener('DOMContentLoaded', () => localizeTimes(document));
document.addEventListener('htmx:afterSettle', (event) => localizeTimes(event.target));

// A server-sent flash (HX-Trigger: {"flash": {kind, text}}) shows in the alert region.
document.addEventListener('flash', (event) => {
  const region = document.getElementById('flash');
  if (!region || !event.detail) return;
  const note = document.createElement('div');
  note.className = `flash flash-${event.detail.kind === 'error' ? 'error' : 'ok'}`;
  note.textContent = String(event.detail.text ?? '');
  region.replaceChildren(note);
});
