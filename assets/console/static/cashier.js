// The cashier page's scanner and double-tap guard. Served from our own
// origin under the console's Content-Security-Policy (script-src 'self').
// Without JavaScript the page still works: type the number, press Enter.
(function () {
  "use strict";

  // A second tap while the first post is on its way is dropped here; the
  // server would apply it once anyway (the form's idempotency key). The
  // form is armed again only when the page comes back from the history
  // (back button), never after a delay: a slow answer is still on its way.
  document.querySelectorAll("form.guard").forEach(function (form) {
    var sent = false;
    form.addEventListener("submit", function (e) {
      if (sent) { e.preventDefault(); return; }
      sent = true;
    });
    window.addEventListener("pageshow", function (e) { if (e.persisted) { sent = false; } });
  });

  var scan = document.getElementById("scan");
  var box = document.getElementById("scanner");
  var video = document.getElementById("camera");
  var status = document.getElementById("scan-status");
  var input = document.getElementById("number");
  if (!scan || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  scan.hidden = false;

  var stream = null, detector = null, canvas = null, running = false;

  function stop() {
    running = false;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.classList.remove("on");
    scan.focus();
  }

  function found(text) {
    stop();
    input.value = text.replace(/\s+/g, "");
    input.form.submit();
  }

  // The fallback decoder (jsQR, vendored) is loaded only when needed.
  function loadDecoder() {
    return new Promise(function (resolve, reject) {
      if (window.jsQR) { resolve(); return; }
      var s = document.createElement("script");
      s.src = box.getAttribute("data-decoder");
      s.onload = resolve; s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function frame() {
    if (!running) { return; }
    if (video.readyState < 2) { requestAnimationFrame(frame); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) { found(codes[0].rawValue); } else { requestAnimationFrame(frame); }
      }, function () { requestAnimationFrame(frame); });
      return;
    }
    var w = video.videoWidth, h = video.videoHeight;
    canvas.width = w; canvas.height = h;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    var code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    if (code && code.data) { found(code.data); } else { requestAnimationFrame(frame); }
  }

  function start() {
    var ready = ("BarcodeDetector" in window)
      ? window.BarcodeDetector.getSupportedFormats().then(function (formats) {
          detector = new window.BarcodeDetector({ formats: formats });
        })
      : loadDecoder().then(function () { canvas = document.createElement("canvas"); });
    ready.then(function () {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (s) {
      stream = s; running = true;
      video.srcObject = s;
      box.classList.add("on");
      status.textContent = "";
      return video.play();
    }).then(function () {
      requestAnimationFrame(frame);
      document.getElementById("scan-stop").focus();
    }).catch(function () {
      stop();
      status.textContent = box.getAttribute("data-nocamera");
      input.focus();
    });
  }

  scan.addEventListener("click", start);
  document.getElementById("scan-stop").addEventListener("click", stop);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && running) { stop(); } });
})();
