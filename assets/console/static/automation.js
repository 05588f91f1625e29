// The automation form's live previews: as a variant's text or bonus
// changes, the server renders the text as a customer gets it and counts
// its SMS segments (the campaigns' preview route, internal/sms), and the
// variant's preview shows both. Without JavaScript the form's Preview
// button does the same.
(function () {
  "use strict";
  var form = document.getElementById("automation-form");
  if (!form || !window.fetch) { return; }
  var route = form.getAttribute("data-preview");
  [].forEach.call(form.querySelectorAll("fieldset.variant"), function (set) {
    var n = set.getAttribute("data-variant");
    var template = form.elements["variant_text_" + n], bonus = form.elements["variant_bonus_" + n];
    var box = document.getElementById("variant-preview-" + n);
    var text = document.getElementById("variant-text-" + n), note = document.getElementById("variant-segments-" + n);
    if (!template || !bonus || !box) { return; }
    var timer = 0, asked = 0;
    function refresh() {
      var k = ++asked;
      if (!template.value.trim()) { box.hidden = true; return; }
      var q = new URLSearchParams({ template: template.value, bonus_points: bonus.value });
      fetch(route + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p || k !== asked) { return; } // an older answer than the last asked
          text.textContent = p.text;
          note.textContent = p.summary;
          note.className = p.over ? "field-error" : "note";
          box.hidden = false;
          box.setAttribute("data-parts", String(p.parts));
        })
        .catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 200); }
    template.addEventListener("input", later);
    bonus.addEventListener("input", later);
  });
})();
