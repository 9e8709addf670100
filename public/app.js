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

// An open run's elapsed time goes on counting between live refreshes (the server's words, core/board/progress.ts).
function elapsedText(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return h < 24 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}
setInterval(() => {
  for (const el of document.querySelectorAll('time[data-elapsed]')) {
    const from = Date.parse(el.getAttribute('datetime'));
    if (!Number.isNaN(from)) el.textContent = elapsedText(Math.max(0, Date.now() - from));
  }
}, 5000);

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

// A <select data-autosubmit> sends its form as soon as a choice is made (its button stays for keyboards and no script).
document.addEventListener('change', (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute('data-autosubmit') && el.form) el.form.requestSubmit();
});

// ---- live pages -------------------------------------------------------------------------------
// One EventSource per page follows the event stream (/live/events). An element with data-live="<url>"
// is fetched again, and morphed in place, when an event concerns it: data-live-run="<workflowId>" for one
// run's events, data-live-mission="<missionId>" for one mission's, data-live-types="run. task." for events
// whose type starts with one of the prefixes (none: every type); an element may narrow by all three. A morph keeps what the reader was doing: open <details>, forms they opened, text they typed,
// focus and scroll. Without the stream, the page says so and polls instead.
const LIVE_POLL_MS = 10000;

function concerns(el, event) {
  const { liveRun: run, liveMission: mission } = el.dataset;
  if (run !== undefined && event.runId !== run) return false;
  if (mission !== undefined && event.missionId !== mission) return false;
  const types = (el.dataset.liveTypes || '').split(/\s+/).filter(Boolean);
  return !types.length || types.some((t) => event.type.startsWith(t));
}

const pending = new Map();
const settling = new Map();
function fetchLive(el) {
  if (!el.isConnected || !el.dataset.live || !window.htmx) return;
  // Marked as a live refresh: every page woken by one event shares the server's one read of what changed.
  window.htmx.ajax('GET', el.dataset.live, { source: el, target: el, swap: 'morph', headers: { 'X-Live-Refresh': '1' } });
}
function refresh(el) {
  // Events come in bursts (a task ends, the next starts): one refresh per burst...
  if (!pending.has(el)) pending.set(el, setTimeout(() => (pending.delete(el), fetchLive(el)), 60));
  // ...and one more once the burst is over: Temporal's run lists catch up a moment after a run changes.
  clearTimeout(settling.get(el));
  settling.set(el, setTimeout(() => (settling.delete(el), fetchLive(el)), 1200));
}
const liveElements = () => document.querySelectorAll('[data-live]');

function setLiveStatus(state, text) {
  const status = document.getElementById('live-status');
  if (!status) return;
  status.dataset.state = state;
  status.textContent = text;
}

function edited(el) {
  if (el instanceof HTMLTextAreaElement) return el.value !== el.defaultValue;
  if (el instanceof HTMLInputElement) return el.type === 'checkbox' || el.type === 'radio' ? el.checked !== el.defaultChecked : el.value !== el.defaultValue;
  if (el instanceof HTMLSelectElement) return [...el.options].some((o) => o.selected !== o.defaultSelected);
  if (el instanceof HTMLOptionElement) return !!el.parentElement && edited(el.closest('select') || el.parentElement);
  return false;
}

function keepReaderState() {
  const morph = window.Idiomorph;
  if (!morph) return;
  morph.defaults.ignoreActiveValue = true;
  morph.defaults.callbacks.beforeAttributeUpdated = (attr, el) => {
    if (attr === 'open' && el instanceof HTMLDetailsElement) return false; // the reader opened or closed it
    if (attr === 'hidden' && el.id && document.querySelector(`[data-toggle="${CSS.escape(el.id)}"][aria-expanded]`)) return false; // a form they toggled
    if (attr === 'aria-expanded' && el.hasAttribute('data-toggle')) return false;
    if ((attr === 'value' || attr === 'checked' || attr === 'selected') && edited(el)) return false; // what they typed or chose
    return true;
  };
}

function followLive() {
  const url = document.body && document.body.dataset.liveStream;
  if (!url || !liveElements().length) return;
  if (typeof EventSource === 'undefined') return pollInstead('Live updates are not available in this browser; this page refreshes every 10 s.');
  let source;
  let poller;
  let downSince = null;
  const open = () => {
    source = new EventSource(url);
    source.addEventListener('ready', () => {
      downSince = null;
      if (poller) {
        clearInterval(poller);
        poller = undefined;
      }
      // What changed between this page's rendering (or the last connection) and now: one look (204 if nothing).
      for (const el of liveElements()) refresh(el);
      setLiveStatus('live', 'Live');
    });
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      for (const el of liveElements()) if (concerns(el, event)) refresh(el);
    };
    // The browser reconnects by itself, resuming after the last event it saw (Last-Event-ID).
    source.onerror = () => {
      downSince ??= Date.now();
      if (source.readyState === EventSource.CLOSED) {
        // Refused outright (signed out, or the server answered an error): try again shortly.
        setTimeout(open, 3000);
      }
      if (Date.now() - downSince > 5000 && !poller) {
        poller = setInterval(() => liveElements().forEach(refresh), LIVE_POLL_MS);
        setLiveStatus('polling', 'Live updates are interrupted; refreshing every 10 s while reconnecting…');
      } else if (!poller) {
        setLiveStatus('reconnecting', 'Reconnecting…');
      }
    };
  };
  open();
  window.addEventListener('pagehide', () => source && source.close());
}

function pollInstead(text) {
  setInterval(() => liveElements().forEach(refresh), LIVE_POLL_MS);
  setLiveStatus('polling', text);
}

document.addEventListener('DOMContentLoaded', () => {
  keepReaderState();
  followLive();
});
