// The copy buttons of read-only fields (a cohort's invitation link). Without this script
// the buttons stay hidden and the field can be selected and copied by hand.
"use strict";

function announce(button, text) {
  const status = document.getElementById(button.dataset.status);
  if (status) {
    status.textContent = "";
    window.setTimeout(() => { status.textContent = text; }, 50);
  }
}

async function copyField(button) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) {
    return;
  }
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    announce(button, "Copied");
  } catch (error) {
    announce(button, "Could not copy: the link is selected, press Ctrl+C (⌘C on a Mac).");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", () => copyField(button));
  }
});
