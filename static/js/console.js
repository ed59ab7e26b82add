// SecureCloud Console behaviour. Loaded from our own origin (no inline scripts: CSP).
// Everything here enhances pages that also work without JavaScript.
"use strict";

(function () {
  // --- The hierarchy tree: WAI-ARIA tree pattern -------------------------------------
  function visibleItems(tree) {
    return Array.from(tree.querySelectorAll('[role="treeitem"]')).filter(
      (item) => !item.closest('[role="group"][hidden]')
    );
  }

  function groupOf(item) {
    const id = item.getAttribute("aria-owns");
    return id ? document.getElementById(id) : null;
  }

  function parentItem(item) {
    const group = item.closest('[role="group"]');
    return group ? document.querySelector('[aria-owns="' + group.id + '"]') : null;
  }

  function focusItem(item) {
    if (!item) return;
    const tree = item.closest('[role="tree"]');
    tree.querySelectorAll('[role="treeitem"][tabindex="0"]').forEach((other) => {
      other.setAttribute("tabindex", "-1");
    });
    item.setAttribute("tabindex", "0");
    item.focus();
  }

  function expand(item) {
    const group = groupOf(item);
    if (!group || item.getAttribute("aria-expanded") !== "false") return;
    item.setAttribute("aria-expanded", "true");
    group.hidden = false;
    const url = item.dataset.childrenUrl;
    if (url && window.htmx) {
      item.removeAttribute("data-children-url");
      group.classList.add("is-loading");
      window.htmx
        .ajax("GET", url, { target: group, swap: "innerHTML" })
        .catch(() => {
          // Let the user try again: collapse, and keep the URL for the next expand.
          item.dataset.childrenUrl = url;
          item.setAttribute("aria-expanded", "false");
          group.hidden = true;
        })
        .finally(() => group.classList.remove("is-loading"));
    } else if (url) {
      window.location.assign(item.href);
    }
  }

  function collapse(item) {
    const group = groupOf(item);
    if (!group || item.getAttribute("aria-expanded") !== "true") return;
    item.setAttribute("aria-expanded", "false");
    group.hidden = true;
  }

  // Type-ahead: a printable character moves the focus to the next visible item whose name
  // starts with it; characters typed in quick succession spell the start of a name; the
  // same letter again goes on to the next item with that letter.
  let typed = "";
  let typedAt = 0;
  function nameOf(item) {
    const label = item.querySelector(".tree-label");
    return (label ? label.textContent : item.textContent).trim().toLowerCase();
  }
  function typeAhead(items, index, key) {
    const now = Date.now();
    typed = now - typedAt > 1000 ? key.toLowerCase() : typed + key.toLowerCase();
    typedAt = now;
    const repeated = Array.from(typed).every((c) => c === typed[0]);
    const search = repeated ? typed[0] : typed;
    const start = repeated ? index + 1 : index;
    for (let step = 0; step < items.length; step++) {
      const candidate = items[(start + step) % items.length];
      if (nameOf(candidate).startsWith(search)) {
        focusItem(candidate);
        return;
      }
    }
  }

  function toggle(item) {
    if (item.getAttribute("aria-expanded") === "true") collapse(item);
    else expand(item);
  }

  document.addEventListener("keydown", (event) => {
    const item = event.target.closest && event.target.closest('[role="treeitem"]');
    if (!item || event.altKey || event.ctrlKey || event.metaKey) return;
    const tree = item.closest('[role="tree"]');
    const items = visibleItems(tree);
    const index = items.indexOf(item);
    const expanded = item.getAttribute("aria-expanded");
    let handled = true;
    switch (event.key) {
      case "ArrowDown":
        focusItem(items[index + 1]);
        break;
      case "ArrowUp":
        focusItem(items[index - 1]);
        break;
      case "Home":
        focusItem(items[0]);
        break;
      case "End":
        focusItem(items[items.length - 1]);
        break;
      case "ArrowRight":
        if (expanded === "false") expand(item);
        else if (expanded === "true") focusItem(groupOf(item).querySelector('[role="treeitem"]'));
        break;
      case "ArrowLeft":
        if (expanded === "true") collapse(item);
        else focusItem(parentItem(item));
        break;
      default:
        handled = false; // Enter follows the link (or loads "Show more") natively
    }
    if (handled) {
      typed = "";
      event.preventDefault();
    } else if (event.key.length === 1 && event.key.trim() !== "") {
      typeAhead(items, index, event.key);
      event.preventDefault();
    }
  });

  document.addEventListener("click", (event) => {
    const toggler = event.target.closest(".tree-toggle");
    if (toggler) {
      const item = toggler.parentElement.querySelector('[role="treeitem"]');
      if (item) {
        toggle(item);
        focusItem(item);
      }
    }
  });

  function initTrees(root) {
    root.querySelectorAll('[role="tree"]').forEach((tree) => {
      if (!tree.querySelector('[role="treeitem"][tabindex="0"]')) {
        const first = tree.querySelector('[role="treeitem"]');
        if (first) first.setAttribute("tabindex", "0");
      }
      const selected = tree.querySelector('[aria-selected="true"]');
      if (selected && selected.scrollIntoView) selected.scrollIntoView({ block: "nearest" });
    });
  }

  // A tree link that swapped the right pane in (htmx) becomes the selected item, and opens
  // to show its children (as the page that a link without JavaScript loads does); the
  // rest of the tree keeps its expanded nodes and the keyboard focus.
  function select(link) {
    const tree = link.closest('[role="tree"]');
    tree.querySelectorAll('[role="treeitem"][aria-selected="true"]').forEach((other) => {
      other.setAttribute("aria-selected", "false");
      other.removeAttribute("aria-current");
      other.closest(".tree-row").classList.remove("is-selected");
    });
    link.setAttribute("aria-selected", "true");
    link.setAttribute("aria-current", "page");
    link.closest(".tree-row").classList.add("is-selected");
    if (link.getAttribute("aria-expanded") === "false") expand(link);
    focusItem(link);
    // The focus stays in the tree: a screen reader hears which pane opened.
    const heading = paneHeading();
    if (heading) announce("Opened: " + heading.textContent.replace(/\s+/g, " ").trim());
  }
  document.addEventListener("htmx:afterSettle", (event) => {
    const link = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (
      link &&
      link.matches &&
      link.matches('[role="treeitem"]:not(.tree-more-link)') &&
      event.detail.successful !== false &&
      document.body.contains(link)
    ) {
      select(link);
    }
  });

  // "Show more" replaces itself with the next page: when it had the focus, the focus
  // moves to the first item of that page instead of falling back to the page's body.
  let showMore = null;
  document.addEventListener("htmx:beforeSwap", () => {
    const link = document.activeElement;
    const tree = link && link.closest && link.closest('[role="tree"]');
    showMore =
      tree && link.classList.contains("tree-more-link")
        ? { tree: tree, index: visibleItems(tree).indexOf(link) }
        : null;
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail && event.detail.target;
    if (showMore) {
      // The first item of the new page stands where the "Show more" link stood.
      const firstNew = visibleItems(showMore.tree)[showMore.index];
      showMore = null;
      if (firstNew) {
        focusItem(firstNew);
        return;
      }
    }
    if (target && target.classList && target.classList.contains("tree-group")) return;
    const tree = document.getElementById("tree");
    if (tree && !tree.querySelector('[role="treeitem"][tabindex="0"]')) initTrees(document);
  });

  // --- The Legend (a <details>, upper right): it opens over the pane's first buttons, so
  // it closes with Escape (the focus back on "Legend"), and as soon as the focus or a
  // click goes anywhere else.
  function closeLegends(except) {
    document.querySelectorAll("details.console-legend[open]").forEach((legend) => {
      if (!except || !legend.contains(except)) legend.open = false;
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const legend = document.querySelector("details.console-legend[open]");
    if (!legend) return;
    const inside = legend.contains(document.activeElement);
    legend.open = false;
    if (inside) legend.querySelector("summary").focus();
  });
  document.addEventListener("focusin", (event) => closeLegends(event.target));
  document.addEventListener("click", (event) => closeLegends(event.target));

  // --- Copy buttons: <button data-copy-target="element-id"> ----------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    const text = source.textContent.trim();
    const done = () => {
      const label = button.lastChild;
      const before = label.textContent;
      label.textContent = " Copied";
      setTimeout(() => (label.textContent = before), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => selectText(source));
    } else {
      selectText(source);
    }
  });

  function selectText(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // --- Confirmations: <form data-confirm="Question?"> ----------------------------------
  // Capture phase: the answer must come before htmx submits a boosted form.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (form.hasAttribute && form.hasAttribute("data-sending")) {
        // Already sent, its answer not yet come: a second press sends nothing.
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  // --- The right pane: links and forms in it swap the pane (hx-boost, layout.html) ------
  // An answer without a pane (the sign-in page after a session ran out, an error page,
  // a page of its own) is shown as a whole page instead of an empty pane.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    if (!detail.target || detail.target.id !== "pane") return;
    const text = detail.serverResponse || "";
    if (!detail.isError && /<section[^>]*\bid="pane"/.test(text)) return;
    detail.shouldSwap = false;
    const verb = detail.requestConfig && detail.requestConfig.verb;
    if (detail.isError && verb && verb !== "get" && /<html/i.test(text)) {
      // A refused form (an expired form, a server error): its answer is the page to
      // show; loading the address again would only show the form as if nothing happened.
      document.open();
      document.write(text);
      document.close();
    } else {
      window.location.assign(detail.xhr.responseURL || window.location.href);
    }
  });

  // A form is sent once: until its answer has come, the form refuses a second submit
  // (data-sending, above) and its submit buttons say so with aria-disabled. Not the
  // disabled attribute: a disabled button drops the keyboard focus to the page's body.
  function setSubmitting(event, submitting) {
    const form = event.detail && event.detail.elt;
    if (!form || form.tagName !== "FORM") return;
    form.toggleAttribute("data-sending", submitting);
    form.querySelectorAll("[type='submit']").forEach((button) => {
      if (submitting) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    });
  }
  document.addEventListener("htmx:beforeRequest", (event) => setSubmitting(event, true));
  document.addEventListener("htmx:afterRequest", (event) => setSubmitting(event, false));

  // The address bar: a form answered with its errors keeps the page's address (the
  // form's own may take POST only, so Reload would fail); an answer at the address
  // already shown (an action that comes back to its page) takes no new Back step.
  document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
    const detail = event.detail;
    const history = detail.history;
    const here = window.location.pathname + window.location.search;
    const verb = detail.requestConfig && detail.requestConfig.verb;
    const answered = detail.xhr && detail.xhr.responseURL && new URL(detail.xhr.responseURL);
    const asked = detail.pathInfo && new URL(detail.pathInfo.requestPath, window.location.href);
    const redirected = answered && asked && answered.pathname !== asked.pathname;
    if ((verb && verb !== "get" && !redirected) || history.path === here) {
      history.type = "replace";
      history.path = here;
    }
  });

  // Ctrl-, Cmd-, Shift- and Alt-clicks on console links open a tab or a window as the
  // browser does: htmx must not turn them into a swap of this page.
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest("a[href]");
      if (!link || !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey)) return;
      if (link.closest("#pane, #tree")) event.stopPropagation();
    },
    true
  );

  // The pane's heading, focusable by script only (tabindex=-1).
  function paneHeading() {
    const pane = document.getElementById("pane");
    const heading = pane && pane.querySelector("h1");
    if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    return heading;
  }

  // A polite live region (base.html) for news that does not move the focus. Emptied
  // first, so that the same words said twice are heard twice.
  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    setTimeout(() => {
      region.textContent = text;
    }, 100);
  }

  // After a pane swap that a form or a pane link made, the focus goes to the first field
  // with an error, else to the new pane's heading (a screen reader reads it; the ring
  // shows where the next Tab starts), so keyboard and screen-reader users land on the new
  // content. Tree clicks keep the focus in the tree, and announce the pane (select).
  document.addEventListener("htmx:afterSettle", (event) => {
    const detail = event.detail;
    const elt = detail && detail.requestConfig && detail.requestConfig.elt;
    if (!detail.target || detail.target.id !== "pane" || !elt || !elt.closest) return;
    if (elt.closest('[role="tree"]')) return;
    const pane = document.getElementById("pane");
    if (!pane) return;
    const invalid = pane.querySelector(".is-invalid, [aria-invalid='true']");
    const heading = paneHeading();
    if (invalid) invalid.focus();
    else if (heading) heading.focus({ preventScroll: true });
    else pane.focus({ preventScroll: true });
  });

  // --- Narrow windows: the tree behind the "Hierarchy" toggle (layout.html) ----------
  // The toggle comes closed (so that a phone shows the pane first, even without
  // JavaScript). From 1024 px up the stylesheet shows the tree anyway; the toggle is
  // opened there too, so that assistive technologies, which skip a closed <details>,
  // find the tree. Going narrow closes it again.
  const wideWindow = window.matchMedia("(min-width: 1024px)");
  function fitHierarchyToggle() {
    document.querySelectorAll(".hierarchy-toggle").forEach((toggle) => {
      toggle.open = wideWindow.matches;
    });
  }
  fitHierarchyToggle();
  wideWindow.addEventListener("change", fitHierarchyToggle);

  // Below 1024 px the pane comes after the toggle: once a tree click has swapped in its
  // pane, the toggle closes and the pane, with its heading, is what shows (as after a
  // page load without JavaScript).
  document.addEventListener("htmx:afterSettle", (event) => {
    const elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || !elt.matches || !elt.matches('[role="treeitem"]:not(.tree-more-link)')) return;
    const toggle = elt.closest(".hierarchy-toggle");
    const summary = toggle && toggle.querySelector(".hierarchy-summary");
    const pane = document.getElementById("pane");
    if (!toggle || !toggle.open || !pane || !summary || !summary.offsetParent) return;
    toggle.open = false;
    pane.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => initTrees(document));
  } else {
    initTrees(document);
  }
})();
