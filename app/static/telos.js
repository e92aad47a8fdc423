// Telos's own script: only what htmx cannot say by itself. Pages work without it.
"use strict";

// An autosave that fails (server error, or no network) must say so; the text the
// member typed stays in the page because nothing is swapped over it.
function showSaveFailure(event) {
  const target = event.detail && event.detail.target;
  if (!target || target.id !== "save-status") {
    return;
  }
  target.textContent = "";
  const strong = document.createElement("strong");
  strong.textContent = "Not saved: ";
  target.append(strong, "the connection or the server failed just now. " +
    "Your text is still here; press Save to try again.");
}

document.addEventListener("htmx:responseError", showSaveFailure);
document.addEventListener("htmx:sendError", showSaveFailure);
