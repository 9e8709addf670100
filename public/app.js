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

// "Open in editor" toggles for inline forms (notes, requested changes, an edited output):
// opening one moves focus to its first field, Escape inside it closes it and returns focus to its toggle.
function toggleOf(target) {
  return document.querySelector(`[data-toggle="${CSS.escape(target.id)}"]`);
}

function setOpen(toggle, target, open) {
  target.hidden = !open;
  toggle.setAttribute('aria-expanded', String(open));
  if (open) target.querySelector('textarea, select, input:not([type=hidden])')?.focus();
  else toggle.focus();
}

document.addEventListener('click', (event) => {
  const toggle = event.target.closest('[data-toggle]');
  if (!toggle) return;
  const target = document.getElementById(toggle.dataset.toggle);
  if (target) setOpen(toggle, target, target.hidden);
});

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || event.defaultPrevented) return;
  for (let el = event.target instanceof Element ? event.target : null; el; el = el.parentElement) {
    const toggle = el.id && !el.hidden ? toggleOf(el) : null;
    if (toggle) {
      event.preventDefault();
      setOpen(toggle, el, false);
      return;
    }
  }
});

// A live region's poll waits while one of its inline forms is open, so what is being typed is not swapped away.
document.addEventListener('htmx:beforeRequest', (event) => {
  const elt = event.detail && event.detail.elt;
  if (!(elt instanceof Element) || !/\bevery\b/.test(elt.getAttribute('hx-trigger') || '')) return;
  if (elt.querySelector('[data-toggle][aria-expanded="true"]')) event.preventDefault();
});

// "Run on a schedule" and the mission's type agree: ticking it makes a manual mission scheduled,
// unticking it makes a scheduled one manual again; choosing the type does the same the other way.
document.addEventListener('change', (event) => {
  const el = event.target;
  if (el instanceof HTMLInputElement && el.dataset.typeSelect) {
    const select = document.getElementById(el.dataset.typeSelect);
    if (!(select instanceof HTMLSelectElement)) return;
    if (el.checked && select.value === 'manual') select.value = 'scheduled';
    else if (!el.checked && select.value === 'scheduled') select.value = 'manual';
  } else if (el instanceof HTMLSelectElement && el.dataset.scheduleBox) {
    const box = document.getElementById(el.dataset.scheduleBox);
    if (!(box instanceof HTMLInputElement)) return;
    if (el.value === 'scheduled') box.checked = true;
    else if (el.value === 'manual') box.checked = false;
  }
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
