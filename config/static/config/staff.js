/* Staff pages: where the keyboard focus goes when a page opens, and copy buttons. Loaded by
   templates/admin/base_site.html as a file (the pages carry no inline script). */
(function () {
  "use strict";

  function focusFirst() {
    // After an action the result message comes first, so that it is read and the next Tab starts there.
    var messages = document.querySelector("#messages-region .messagelist");
    if (messages) {
      messages.focus();
      return;
    }
    // A form with an error: its first wrong field.
    var wrong = document.querySelector(".errors input, .errors select, .errors textarea");
    if (wrong) {
      wrong.focus();
      return;
    }
    // Lists and the home page: the search box.
    var search = document.querySelector("[data-autofocus], #searchbar");
    if (search) {
      search.focus();
    }
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) {
          return;
        }
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
          if (status) {
            status.textContent = "Copied.";
          }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirst();
    copyButtons();
  });
})();

/* The API client form: choosing a preset ticks its scopes (the server adds them too, without script). */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var preset = document.querySelector("select[data-presets]");
  if (!preset) {
    return;
  }
  var presets = JSON.parse(preset.getAttribute("data-presets"));
  preset.addEventListener("change", function () {
    (presets[preset.value] || []).forEach(function (scope) {
      var box = document.querySelector('input[name="scopes"][value="' + scope + '"]');
      if (box) {
        box.checked = true;
      }
    });
  });
});
