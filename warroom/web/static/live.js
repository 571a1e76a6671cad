// The page follows its incident over server-sent events: each "snapshot" is the server's
// rendering of the live part (escaped there by Jinja2), put in place as it came.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var link = document.getElementById("link");
  if (!live) { return; }

  function duration(secs) {
    var s = Math.max(0, Math.floor(secs)), m, h;
    if (s < 60) { return s + "s"; }
    m = Math.floor(s / 60); s = s % 60;
    if (m < 60) { return m < 10 ? m + "m" + (s < 10 ? "0" : "") + s + "s" : m + "m"; }
    h = Math.floor(m / 60); m = m % 60;
    if (h < 48) { return h + "h" + (m < 10 ? "0" : "") + m + "m"; }
    return Math.floor(h / 24) + "d" + (h % 24 < 10 ? "0" : "") + (h % 24) + "h";
  }

  function tick() {
    var el = document.getElementById("elapsed");
    if (!el || !el.dataset.since || el.dataset.stopped) { return; }
    var since = Date.parse(el.dataset.since);
    if (!isNaN(since)) { el.textContent = duration((Date.now() - since) / 1000); }
  }

  var source = new EventSource(live.dataset.events);
  source.addEventListener("snapshot", function (e) {
    live.innerHTML = e.data;
    link.textContent = "live";
    link.className = "muted";
    tick();
  });
  source.onerror = function () {
    link.textContent = "reconnecting...";
    link.className = "overdue";
  };
  setInterval(tick, 1000);
})();
