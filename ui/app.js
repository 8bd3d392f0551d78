import { t } from './i18n.js';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, liveEvents, session } from './api.js';
import { html } from './html.js';
import { Failed } from './load.js';
import { AlertsPage } from './pages/alerts.js';
import { DevicePage } from './pages/device.js';
import { DiagnosticsPage } from './pages/diagnostics.js';
import { EnergyPage } from './pages/energy.js';
import { AddDevicePage } from './pages/addDevice.js';
import { Home } from './pages/home.js';
import { SimpleHome } from './pages/simple.js';
import { PairPage } from './pages/pair.js';
import { PeoplePage } from './pages/people.js';
import { PrivacyPage } from './pages/privacy.js';
import { RulesPage } from './pages/rules.js';

const TABS = [
  ['#/', t('Home')],
  ['#/energy', t('Energy')],
  ['#/alerts', t('Alerts')],
  ['#/rules', t('Rules')],
  ['#/people', t('People')],
  ['#/privacy', t('Privacy')],
  ['#/diagnostics', t('Status')],
];

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** The device list with one device replaced (or added, in name order). */
function upsert(devices, device) {
  if (!devices) return devices;
  const rest = devices.filter((d) => d.id !== device.id);
  return [...rest, device].sort((a, b) => a.name.localeCompare(b.name));
}

/** Applies a live event to the device list (readings and availability), returning a new list. */
function apply(devices, e) {
  if (!devices) return devices;
  if (e.type === 'reading') {
    return devices.map((d) =>
      d.id !== e.deviceId || !d.attributes[e.attribute]
        ? d
        : { ...d, online: true, attributes: { ...d.attributes, [e.attribute]: { ...d.attributes[e.attribute], value: e.value, ts: e.ts } } },
    );
  }
  if (e.type === 'availability') return devices.map((d) => (d.id === e.deviceId ? { ...d, online: e.online } : d));
  return devices;
}

function App() {
  const hash = useHash();
  const [signedIn, setSignedIn] = useState(Boolean(session.token));
  const [me, setMe] = useState(null);
  const [devices, setDevices] = useState(null);
  const [live, setLive] = useState(false);
  const [alertTick, setAlertTick] = useState(0);
  /** the newest alert, shown on every page until dismissed (a rule's notify arrives here live) */
  const [latest, setLatest] = useState(null);
  const [prefs, setPrefs] = useState(null);
  /** simple mode left for this visit (the setting stays) */
  const [fullApp, setFullApp] = useState(false);
  const [loadError, setLoadError] = useState(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!signedIn) return undefined;
    setLoadError(null);
    api('/api/me').then(
      (m) => setMe(m.user),
      (err) => (err.status === 401 ? setSignedIn(false) : setLoadError(err)),
    );
    api('/api/devices').then(setDevices, setLoadError);
    api('/api/me/prefs').then(setPrefs, () => setPrefs({ favourites: [], scenes: [], simple: false, simpleLocked: false }));
    return liveEvents((e) => {
      // a device announced or changed: fetch that one device, not the whole list
      if (e.type === 'device') api(`/api/devices/${encodeURIComponent(e.id)}`).then((d) => setDevices((ds) => upsert(ds, d)), setLoadError);
      else if (e.type === 'alert') {
        setAlertTick((t) => t + 1);
        setLatest(e);
      } else setDevices((ds) => apply(ds, e));
    }, setLive);
  }, [signedIn, attempt]);

  if (!signedIn || hash.startsWith('#/pair')) {
    return html`<header><h1>Trellis</h1></header><main><${PairPage} onSignedIn=${() => setSignedIn(true)} /></main>`;
  }
  let page;
  if (hash.startsWith('#/device/')) page = html`<${DevicePage} id=${decodeURIComponent(hash.slice(9))} devices=${devices} me=${me} />`;
  else if (hash.startsWith('#/energy')) page = html`<${EnergyPage} />`;
  else if (hash.startsWith('#/add')) page = html`<${AddDevicePage} />`;
  else if (hash.startsWith('#/alerts')) page = html`<${AlertsPage} tick=${alertTick} me=${me} />`;
  else if (hash.startsWith('#/rules')) page = html`<${RulesPage} me=${me} devices=${devices} />`;
  else if (hash.startsWith('#/people'))
    page = html`<${PeoplePage} me=${me} prefs=${prefs} onPrefs=${(p) => {
      setPrefs(p);
      setFullApp(false);
    }} onSignedOut=${() => setSignedIn(false)} />`;
  else if (hash.startsWith('#/diagnostics')) page = html`<${DiagnosticsPage} />`;
  else if (hash.startsWith('#/privacy')) page = html`<${PrivacyPage} devices=${devices} />`;
  else page = html`<${Home} devices=${devices} me=${me} prefs=${prefs} onPrefs=${setPrefs} onDevice=${(d) => setDevices((ds) => upsert(ds, d))} />`;
  if (prefs?.simple && !fullApp)
    return html`<header><h1>Trellis</h1></header>${latest && html`<div class=${`card alert ${latest.severity} toast`} role="alert" data-testid="toast"><strong>${latest.message}</strong></div>`}
      <${SimpleHome} devices=${devices} prefs=${prefs} onLeave=${() => {
        setFullApp(true);
        location.hash = '#/';
      }} />`;
  const failed = loadError && html`<${Failed} error=${loadError} retry=${() => setAttempt((n) => n + 1)} what=${t('the devices')} />`;
  return html`
    <header><h1>Trellis</h1><span class="status" data-testid="live">${live ? t('● live') : t('○ reconnecting…')}</span></header>
    <main>${
      latest &&
      html`<div class=${`card alert ${latest.severity} toast`} role="alert" data-testid="toast">
      <strong>${latest.message}</strong> <button class="secondary" aria-label=${t('dismiss')} onClick=${() => setLatest(null)}>${t('OK')}</button></div>`
    }${failed}${page}</main>
    <nav class="tabs">${TABS.filter(([href]) => href !== '#/privacy' || me?.role === 'owner').map(([href, name]) => html`<a href=${href} class=${(href === '#/' ? hash === '#/' || hash.startsWith('#/device') : hash.startsWith(href)) ? 'active' : ''}>${name}</a>`)}</nav>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading…" placeholder
render(html`<${App} />`, root);
