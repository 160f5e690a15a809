// The web console's only script: fit embedded documents to their height, submit the
// language choice, and reload the page when a room syncs (while the conference runs).
(function () {
  "use strict";
  function fit(frame) {
    try {
      frame.style.height = frame.contentDocument.documentElement.scrollHeight + 2 + "px";
    } catch (e) { /* leave the default height */ }
  }
  document.querySelectorAll("iframe.document").forEach(function (frame) {
    frame.addEventListener("load", function () { fit(frame); });
    window.addEventListener("resize", function () { fit(frame); });
    fit(frame);
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  var every = Number(document.body.dataset.refresh || 0);
  var stamp = document.body.dataset.stamp;
  if (!every || !stamp) return;
  function poll() {
    fetch((document.body.dataset.root || "") + "/changes", { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.redirected || answer.status === 401) { location.reload(); return null; }
        return answer.ok ? answer.json() : null;
      })
      .then(function (data) {
        if (data && data.stamp !== stamp) { location.reload(); }
        else { setTimeout(poll, every * 1000); }
      })
      .catch(function () { setTimeout(poll, every * 1000); });
  }
  setTimeout(poll, every * 1000);
})();
