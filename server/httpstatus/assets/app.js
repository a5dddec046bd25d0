// Refreshes the status page in place: every data-refresh seconds it
// fetches the page's <main> again and swaps it in. The page reads the
// same without this script.
(function () {
  'use strict';
  var every = parseInt(document.body.getAttribute('data-refresh') || '0', 10);
  var stale = document.getElementById('stale');
  if (!every || every < 1 || !window.fetch || !window.DOMParser) {
    return;
  }
  var busy = false;
  function refresh() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    fetch('fragment?refresh=' + every, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) {
          throw new Error('HTTP ' + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('status');
        var main = document.getElementById('status');
        if (fresh && main) {
          main.replaceWith(document.importNode(fresh, true));
        }
        if (stale) {
          stale.hidden = true;
        }
      })
      .catch(function () {
        if (stale) {
          stale.hidden = false;
        }
      })
      .then(function () {
        busy = false;
      });
  }
  window.setInterval(refresh, every * 1000);
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      refresh();
    }
  });
})();
