// Porteiro console: the copy buttons. Everything else works without scripting.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const status = document.createElement("span");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  document.body.appendChild(status);

  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) continue;
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", async () => {
      let copied = false;
      try {
        await navigator.clipboard.writeText(field.value);
        copied = true;
      } catch {
        // Plain HTTP on another host has no clipboard API: fall back to a selection copy.
        field.focus();
        field.select();
        try {
          copied = document.execCommand("copy");
        } catch {
          copied = false;
        }
      }
      if (copied) {
        button.textContent = button.dataset.copied;
        status.textContent = button.dataset.copied;
        setTimeout(() => {
          button.textContent = label;
          status.textContent = "";
        }, 2000);
      }
    });
  }

  for (const input of document.querySelectorAll("input[readonly]")) {
    input.addEventListener("focus", () => input.select());
  }
});
