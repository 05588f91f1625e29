// The card designer's live preview: as any setting changes, the server
// draws the Apple and the Google card again from the values as typed
// (the same code that builds the passes) and the drawing replaces the
// one beside the form. Nothing is saved until the form is sent.
(function () {
  "use strict";
  var form = document.getElementById("program-form");
  var box = document.getElementById("designer-preview");
  if (!form || !box || !window.fetch || !window.URLSearchParams) { return; }
  var timer = 0, asked = 0;

  function refresh() {
    var n = ++asked;
    var data = new FormData(form);
    data.delete("csrf");
    var q = new URLSearchParams(data);
    fetch(box.getAttribute("data-preview") + "?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || n !== asked) { return; } // an older answer than the last asked
        box.innerHTML = html;
        box.setAttribute("data-drawn", String(n));
      })
      .catch(function () {});
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 150); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
