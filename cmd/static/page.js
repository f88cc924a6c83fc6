/* mailscope serve: the helpdesk page's script. The page works without it; with it, a check
 * started from the form shows each endpoint as it finishes (server-sent events from
 * /check/events) at the check's own address (/check?target=...), and the settings get a copy
 * button. It inserts only HTML the server rendered (every server string escaped there) and
 * sets text with textContent. */
(function () {
  'use strict';

  function wireCopy(root) {
    root.querySelectorAll('button.copy[data-copy]').forEach(function (b) {
      var src = document.getElementById(b.getAttribute('data-copy'));
      if (!src) { return; }
      b.hidden = false;
      b.addEventListener('click', function () {
        var text = src.textContent;
        var done = function () { b.textContent = 'Copied'; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { select(src); });
        } else {
          select(src);
        }
      });
    });
  }

  /* "Save this transcript": the text shown, as a file (no second check) */
  function wireDownload(root) {
    root.querySelectorAll('button.download[data-download]').forEach(function (b) {
      var src = document.getElementById(b.getAttribute('data-download'));
      if (!src || !window.Blob || !window.URL) { return; }
      b.hidden = false;
      b.addEventListener('click', function () {
        var url = URL.createObjectURL(new Blob([src.textContent], {type: 'text/plain'}));
        var a = document.createElement('a');
        a.href = url;
        a.download = 'mailscope-transcript.txt';
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      });
    });
  }

  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  function run(form, query) {
    var out = document.getElementById('result');
    if (!out) {
      out = el('div', 'result');
      out.id = 'result';
      form.parentNode.insertBefore(out, form.nextSibling);
    }
    out.textContent = '';
    var progress = el('section', 'progress');
    progress.id = 'progress';
    var h = el('h2', null, 'Checking ');
    h.appendChild(el('span', 'target', query.get('target') || ''));
    h.appendChild(document.createTextNode('\u2026'));
    progress.appendChild(h);
    progress.appendChild(el('p', 'note',
      'Each endpoint shows here as it finishes; the report follows when the last one is done.'));
    var live = el('div');
    live.id = 'live';
    progress.appendChild(live);
    out.appendChild(progress);
    var button = form.querySelector('button.go');
    if (button) { button.disabled = true; }
    var finished = false;
    var es = new EventSource('/check/events?' + query.toString());
    function end(html) {
      finished = true;
      es.close();
      out.innerHTML = html;
      wireCopy(out);
      wireDownload(out);
      if (button) { button.disabled = false; }
    }
    es.addEventListener('endpoint', function (e) {
      live.insertAdjacentHTML('beforeend', e.data);
    });
    es.addEventListener('report', function (e) { end(e.data); });
    es.addEventListener('problem', function (e) { end(e.data); });
    es.onerror = function () {
      es.close();
      if (!finished) {
        /* refused (429, 403, ...) or cut: the page itself says why */
        window.location.href = '/check?' + query.toString();
      }
    };
  }

  document.addEventListener('DOMContentLoaded', function () {
    wireCopy(document);
    wireDownload(document);
    var form = document.getElementById('check-form');
    if (!form || !window.EventSource || !window.history || !window.history.pushState ||
        !window.URLSearchParams) {
      return;
    }
    form.addEventListener('submit', function (ev) {
      var user = form.elements.namedItem('user');
      var password = form.elements.namedItem('password');
      if ((user && user.value) || (password && password.value)) {
        return; /* sign-in: the form is posted; the password stays out of every URL */
      }
      ev.preventDefault();
      var q = new URLSearchParams();
      ['target', 'protocols', 'ports'].forEach(function (name) {
        var f = form.elements.namedItem(name);
        if (f && f.value.trim()) { q.set(name, f.value.trim()); }
      });
      window.history.pushState(null, '', '/check?' + q.toString());
      run(form, q);
    });
    window.addEventListener('popstate', function () { window.location.reload(); });
  });
})();
