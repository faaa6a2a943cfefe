// The live log of a running job: append what the server sends, stop when the job is finished.
// Log text is added as a text node, never as HTML.
(function () {
  "use strict";
  var log = document.getElementById("log");
  if (!log || !log.dataset.stream || !window.EventSource) { return; }
  var note = document.getElementById("live-note");
  var source = new EventSource(log.dataset.stream);
  source.addEventListener("append", function (event) {
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(document.createTextNode(JSON.parse(event.data).text));
    if (atBottom) { log.scrollTop = log.scrollHeight; }
  });
  source.addEventListener("done", function (event) {
    source.close();
    var state = JSON.parse(event.data).state;
    if (note) { note.textContent = "finished: " + (state || "unknown"); }
    var badge = document.getElementById("job-state");
    if (badge && state) {
      badge.textContent = "";
      var span = document.createElement("span");
      span.className = "state state-" + state;
      span.textContent = state;
      badge.appendChild(span);
    }
  });
}());
