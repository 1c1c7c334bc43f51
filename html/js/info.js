// Fills the index page's status box from GET /janus/info (the Janus API's server_info).
const $ = (id) => document.getElementById(id);

function fillList(el, modules) {
  el.replaceChildren();
  for (const [pkg, m] of Object.entries(modules || {})) {
    const li = document.createElement('li');
    li.textContent = `${pkg} — ${m.name} ${m.version_string}`;
    el.appendChild(li);
  }
}

async function load() {
  const state = $('info-state');
  try {
    const res = await fetch('/janus/info', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const info = await res.json();
    $('info-version').textContent = `Stoa ${info['stoa-version']} (Janus API ${info.version_string})`;
    $('info-name').textContent = info['server-name'];
    $('info-timeout').textContent = `${info['session-timeout']} s`;
    fillList($('info-plugins'), info.plugins);
    fillList($('info-transports'), info.transports);
    $('ws-url').textContent = `ws://${location.hostname}:8188`;
    $('http-url').textContent = `${location.origin}/janus`;
    $('info').hidden = false;
    state.textContent = 'The server is up.';
  } catch (err) {
    state.textContent = `The server did not answer (${err.message}).`;
  }
}

load();
