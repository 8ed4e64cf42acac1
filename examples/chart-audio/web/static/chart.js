// chart.js fetches the chosen chart's summary and sound without reloading the page, so the
// summary is announced by the live region (#summary). Without it the form reloads the page,
// which shows the same summary and sound.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('pick');
  if (!form) return;
  const status = document.getElementById('summary');
  const player = document.getElementById('chart-audio');
  const line = document.getElementById('chart-download-line');
  const link = document.getElementById('chart-download');
  const en = document.documentElement.lang === 'en';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const symbol = form.elements.symbol.value;
    let res;
    try {
      res = await fetch('/charts/' + encodeURIComponent(symbol), {credentials: 'same-origin', headers: {Accept: 'application/json'}});
    } catch (err) {
      status.textContent = status.dataset.failed;
      return;
    }
    if (!res.ok) { // signed out meanwhile, or an unknown symbol: the server's page says so
      form.submit();
      return;
    }
    const chart = await res.json();
    player.src = chart.audio_url;
    player.setAttribute('aria-label', player.dataset.label.replace('%s', en ? chart.name_en : chart.name));
    player.hidden = false;
    link.href = chart.audio_url;
    line.hidden = false;
    status.textContent = en ? chart.summary.en : chart.summary.ko;
    history.replaceState(null, '', '/?' + new URLSearchParams(new FormData(form)).toString());
  });
});
