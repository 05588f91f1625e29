// The campaign form's live preview: as the text or the bonus changes,
// the server renders the text as a customer gets it and counts its SMS
// segments (internal/sms), and the preview beside the form shows both.
// Without JavaScript the form's Preview button does the same.
(function () {
  "use strict";
  var box = document.getElementById("sms-preview");
  var form = document.getElementById("campaign-form");
  if (!box || !form || !window.fetch) { return; }
  var text = document.getElementById("preview-text");
  var note = document.getElementById("preview-segments");
  var template = form.elements.template, bonus = form.elements.bonus_points;
  var timer = 0, asked = 0;

  function refresh() {
    var n = ++asked;
    var q = new URLSearchParams({ template: template.value, bonus_points: bonus.value });
    fetch(box.getAttribute("data-preview") + "?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p || n !== asked) { return; } // an older answer than the last asked
        text.textContent = p.text;
        note.textContent = p.summary;
        note.className = p.over ? "field-error" : "note";
        box.setAttribute("data-parts", String(p.parts));
      })
      .catch(function () {});
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 200); }
  template.addEventListener("input", later);
  bonus.addEventListener("input", later);
})();
