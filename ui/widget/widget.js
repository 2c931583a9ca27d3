/*
 * Avtalsassistenten: the embeddable question widget.
 *
 *   <script src="https://HOST/widget.js" data-title="Fråga om samverkan" data-faq="vanliga" defer></script>
 *
 * Attributes: data-title (button and panel title), data-faq (FAQ section id; empty: the first
 * section), data-documents (comma-separated document ids the answers are restricted to),
 * data-audience ("kort" or "utförlig"), data-api (API base URL; default: where this script
 * was loaded from).
 *
 * Plain JavaScript, no build step, no external resources. Everything lives in a shadow root so
 * the page's CSS cannot reach the widget nor the widget's the page's. Every piece of answer or
 * document data is inserted with textContent/createTextNode, never as HTML.
 */
(function () {
  "use strict";

  // currentScript is set for classic scripts, also when a tag manager inserts the tag.
  var script = document.currentScript || document.querySelector("script[src$='/widget.js']");
  if (!script) {
    return;
  }

  // User-visible texts (Swedish), kept together.
  var T = {
    title: "Fråga om samverkan",
    open: "öppna frågepanelen",
    close: "Stäng frågepanelen",
    notice: "Skriv inte personnummer eller andra patientuppgifter i frågan.",
    intro: "Ställ en fråga om överenskommelserna och riktlinjerna för samverkan mellan kommunerna och Region Stockholm. Svaret hänvisar till avsnittet det bygger på.",
    faqHeading: "Vanliga frågor",
    conversation: "Samtal",
    question: "Din fråga",
    questionHelp: "Enter skickar, Skift+Enter ger ny rad.",
    detailed: "Utförligt svar",
    send: "Skicka",
    you: "Du",
    assistant: "Avtalsassistenten",
    thinking: "Söker svar …",
    sources: "Källor",
    section: "avsnitt",
    page: "s.",
    opensNewTab: "(öppnas i ny flik)",
    sourceRef: "Källa",
    suggestions: "Närliggande ämnen i dokumenten:",
    suggestionQuestion: function (topic) { return "Vad står det om " + topic + "?"; },
    good: "Bra svar",
    bad: "Dåligt svar",
    thanks: "Tack för din återkoppling!",
    copy: "Kopiera svar",
    copied: "Svaret med källor är kopierat.",
    copyFailed: "Det gick inte att kopiera. Markera texten och kopiera den själv.",
    networkError: "Det gick inte att nå Avtalsassistenten.",
    networkHint: "Kontrollera anslutningen och försök igen. Om felet kvarstår: kontakta den som förvaltar intranätet (sidan kanske inte är godkänd för tjänsten).",
    timeoutError: "Svaret dröjde för länge.",
    timeoutHint: "Försök igen om en stund.",
    httpError: function (status) { return "Något gick fel (felkod " + status + ")."; },
    httpHint: "Försök igen om en stund.",
    empty: "Skriv en fråga först."
  };

  var ASK_TIMEOUT_MS = 60000;
  var HISTORY_TURNS = 8;

  function apiBase() {
    var explicit = script.getAttribute("data-api");
    if (explicit) {
      return explicit.replace(/\/+$/, "");
    }
    var src = script.src || "";
    return src.replace(/[?#].*$/, "").replace(/\/widget\.js$/, "");
  }

  function listAttribute(name) {
    var raw = script.getAttribute(name) || "";
    var items = raw.split(/[\s,]+/).filter(Boolean);
    return items.length ? items : null;
  }

  var config = {
    api: apiBase(),
    title: script.getAttribute("data-title") || T.title,
    faq: script.getAttribute("data-faq") || "",
    documents: listAttribute("data-documents"),
    audience: script.getAttribute("data-audience") === "utförlig" ? "utförlig" : "kort"
  };

  var CSS = [
    ":host { all: initial !important; display: block !important; position: static !important;",
    "  visibility: visible !important; opacity: 1 !important; transform: none !important; }",
    ".root { all: initial; display: block; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif;",
    "  font-size: 15px; line-height: 1.45; color: #1b1b1b; text-align: left; }",
    ".root *, .root *::before, .root *::after { box-sizing: border-box; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;",
    "  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }",
    "button, textarea, input { font: inherit; color: inherit; letter-spacing: normal; text-transform: none; }",
    "button { cursor: pointer; }",
    ":focus-visible { outline: 3px solid #1d70b8; outline-offset: 2px; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: inline-flex;",
    "  align-items: center; gap: 8px; margin: 0; padding: 12px 18px; border: 2px solid #ffffff; border-radius: 24px;",
    "  background: #00508a; color: #ffffff; font-size: 16px; font-weight: 600; box-shadow: 0 2px 10px rgba(0,0,0,.3); }",
    ".launcher:hover { background: #003b66; }",
    ".launcher:focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px; box-shadow: 0 0 0 6px #ffdd00; }",
    ".launcher svg { width: 20px; height: 20px; flex: none; }",
    ".panel { position: fixed; right: 20px; bottom: 80px; z-index: 2147483001; display: flex; flex-direction: column;",
    "  width: 400px; max-width: calc(100vw - 24px); height: 620px; max-height: calc(100vh - 100px); margin: 0; padding: 0;",
    "  background: #ffffff; color: #1b1b1b; border: 1px solid #6b6b6b; border-radius: 10px;",
    "  box-shadow: 0 6px 28px rgba(0,0,0,.3); overflow: hidden; }",
    ".panel[hidden] { display: none; }",
    "@media (max-width: 480px) { .panel { right: 12px; bottom: 76px; } .launcher { right: 12px; bottom: 12px; } }",
    ".head { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 10px 12px 10px 16px;",
    "  background: #00508a; color: #ffffff; }",
    ".head h2 { margin: 0; font-size: 17px; font-weight: 700; line-height: 1.3; color: #ffffff; }",
    ".close { display: inline-flex; align-items: center; justify-content: center; width: 36px; height: 36px; margin: 0;",
    "  padding: 0; border: 2px solid transparent; border-radius: 6px; background: transparent; color: #ffffff; }",
    ".close:hover { border-color: #ffffff; }",
    ".close:focus-visible { outline: 3px solid #ffdd00; outline-offset: 0; }",
    ".close svg { width: 18px; height: 18px; }",
    ".notice { margin: 0; padding: 8px 16px; background: #fff4ce; color: #3b2f00; font-size: 13.5px;",
    "  border-bottom: 1px solid #e0c96b; }",
    ".body { flex: 1 1 auto; overflow-y: auto; padding: 12px 16px; }",
    ".intro { margin: 0 0 10px; color: #3d3d3d; font-size: 14px; }",
    ".faq h3, .sources h3 { margin: 8px 0 6px; font-size: 14px; font-weight: 700; color: #1b1b1b; }",
    ".faq ul, .sources ol { margin: 0; padding: 0; list-style: none; }",
    ".faq li { margin: 0 0 6px; }",
    ".faq button, .suggest button { display: block; width: 100%; margin: 0; padding: 7px 10px; text-align: left;",
    "  background: #eef4fa; color: #003b66; border: 1px solid #9dbbd6; border-radius: 6px; font-size: 14px; }",
    ".faq button:hover, .suggest button:hover { background: #dce9f5; }",
    ".turn { margin: 12px 0; }",
    ".turn .who { margin: 0 0 2px; font-size: 12.5px; font-weight: 700; color: #4a4a4a; }",
    ".user .bubble { margin: 0 0 0 32px; padding: 8px 12px; background: #00508a; color: #ffffff; border-radius: 10px;",
    "  white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".user .who { text-align: right; }",
    ".answer .bubble { padding: 10px 12px; background: #f4f5f6; color: #1b1b1b; border: 1px solid #d6d8da;",
    "  border-radius: 10px; }",
    ".answer .text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".answer.abstained .bubble { background: #fbf7ef; border-color: #d9c9a3; }",
    ".ref { color: #00508a; font-weight: 700; text-decoration: none; }",
    ".ref:hover { text-decoration: underline; }",
    ".note { margin: 8px 0 0; padding: 6px 8px; background: #fff4ce; color: #3b2f00; border-left: 4px solid #b88600;",
    "  font-size: 13.5px; }",
    ".sources li { margin: 0 0 8px; font-size: 13.5px; overflow-wrap: anywhere; }",
    ".sources a { color: #00508a; text-decoration: underline; }",
    ".sources a:hover { color: #003b66; }",
    ".sources .where { color: #3d3d3d; }",
    ".sources q { display: block; margin: 3px 0 0; padding-left: 8px; border-left: 3px solid #b9c3cc; color: #3d3d3d;",
    "  font-style: italic; quotes: none; }",
    ".suggest p { margin: 8px 0 6px; font-size: 13.5px; }",
    ".suggest li { margin: 0 0 6px; }",
    ".actions { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: 8px; }",
    ".actions button { display: inline-flex; align-items: center; gap: 4px; margin: 0; padding: 5px 9px;",
    "  background: #ffffff; color: #1b1b1b; border: 1px solid #6b6b6b; border-radius: 6px; font-size: 13px; }",
    ".actions button:hover { background: #eef4fa; }",
    ".actions button[aria-pressed=true] { background: #00508a; color: #ffffff; border-color: #00508a; }",
    ".actions button:disabled { cursor: default; }",
    ".actions svg { width: 16px; height: 16px; }",
    ".status { font-size: 13px; color: #1e5b27; }",
    ".error .bubble { background: #fdecea; border-color: #c0392b; color: #5c1111; }",
    ".error .hint { margin: 4px 0 0; }",
    ".thinking { color: #4a4a4a; font-style: italic; }",
    ".ask { flex: none; padding: 10px 16px 12px; border-top: 1px solid #d6d8da; background: #ffffff; }",
    ".ask label.q { display: block; margin: 0 0 4px; font-size: 14px; font-weight: 700; }",
    ".ask textarea { display: block; width: 100%; min-height: 56px; max-height: 140px; margin: 0; padding: 8px 10px;",
    "  resize: vertical; background: #ffffff; color: #1b1b1b; border: 1px solid #6b6b6b; border-radius: 6px; }",
    ".ask .help { margin: 3px 0 0; font-size: 12.5px; color: #4a4a4a; }",
    ".ask .row { display: flex; align-items: center; justify-content: space-between; gap: 8px; margin-top: 8px; }",
    ".ask .row label { display: inline-flex; align-items: center; gap: 6px; font-size: 14px; }",
    ".ask input[type=checkbox] { width: 18px; height: 18px; margin: 0; }",
    ".send { margin: 0; padding: 8px 18px; background: #00508a; color: #ffffff; border: 2px solid #00508a;",
    "  border-radius: 6px; font-size: 15px; font-weight: 600; }",
    ".send:hover { background: #003b66; }",
    ".send:disabled { background: #6b6b6b; border-color: #6b6b6b; cursor: progress; }",
    "@media print { .launcher, .panel { display: none; } }",
    "@media (forced-colors: active) { .launcher, .send, .panel { border: 2px solid CanvasText; } }"
  ].join("\n");

  // --- small DOM helpers: text only, never HTML --------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) {
          return;
        }
        if (key === "text") {
          node.textContent = value;
        } else if (key === "className") {
          node.className = value;
        } else if (key === "hidden") {
          node.hidden = true;
        } else {
          node.setAttribute(key, value === true ? "" : String(value));
        }
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) {
        return;
      }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 5v2h10V9H7zm0 4v2h7v-2H7z",
    close: "M5.3 3.9 12 10.6l6.7-6.7 1.4 1.4-6.7 6.7 6.7 6.7-1.4 1.4-6.7-6.7-6.7 6.7-1.4-1.4 6.7-6.7-6.7-6.7z",
    up: "M2 10h4v11H2zm6 11h9.2a2 2 0 0 0 2-1.6l1.7-7.4A2 2 0 0 0 19 9.5h-5.3l.8-4.2a1.6 1.6 0 0 0-2.8-1.3L8 9v12z",
    down: "M22 14h-4V3h4zm-6-11H6.8a2 2 0 0 0-2 1.6L3.1 12a2 2 0 0 0 1.9 2.5h5.3l-.8 4.2a1.6 1.6 0 0 0 2.8 1.3L16 15V3z",
    copy: "M8 2h11a2 2 0 0 1 2 2v13h-2V4H8zm-3 4h10a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2zm0 2v12h10V8z"
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // The words the answer used: the citation's separate runs, joined by an ellipsis (the sentences
  // it skipped between them are left out); older servers send `quote` only.
  function usedWords(c) {
    return c.quotes && c.quotes.length ? c.quotes.join(" … ") : c.quote;
  }

  function clauseUrl(citation) {
    return config.api + "/dokument/" + encodeURIComponent(citation.document) + "#" +
      encodeURIComponent(citation.anchor || "");
  }

  function pagesText(pages) {
    if (!pages || !pages.length) {
      return "";
    }
    var first = pages[0];
    var last = pages[pages.length - 1];
    var contiguous = last - first === pages.length - 1;
    if (pages.length === 1) {
      return T.page + " " + first;
    }
    return T.page + " " + (contiguous ? first + "–" + last : pages.join(", "));
  }

  function whereText(citation) {
    var parts = [];
    var sectionPart = [citation.section ? T.section + " " + citation.section : "", citation.heading || ""]
      .filter(Boolean).join(" ");
    if (sectionPart) {
      parts.push(sectionPart);
    }
    var pages = pagesText(citation.pages);
    if (pages) {
      parts.push(pages);
    }
    return parts.join(", ");
  }

  function copyText(answer) {
    var lines = [answer.answer];
    if (answer.citations && answer.citations.length) {
      lines.push("", T.sources + ":");
      answer.citations.forEach(function (c) {
        var where = whereText(c);
        lines.push("[" + c.n + "] " + c.title + (where ? ", " + where : "") + " – " + clauseUrl(c));
      });
    }
    return lines.join("\n");
  }

  // --- HTTP --------------------------------------------------------------------------------
  function errorFrom(body, status) {
    var e = body && body.error;
    if (e && e.message) {
      return { message: String(e.message), hint: e.hint ? String(e.hint) : "" };
    }
    return { message: T.httpError(status), hint: T.httpHint };
  }

  function post(path, payload, timeoutMs) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs) : null;
    return fetch(config.api + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-Avtal-Channel": "widget" },
      body: JSON.stringify(payload),
      signal: controller ? controller.signal : undefined
    }).then(readJson, function (err) {
      var timedOut = err && err.name === "AbortError";
      throw timedOut ? { message: T.timeoutError, hint: T.timeoutHint } : { message: T.networkError, hint: T.networkHint };
    }).finally(function () {
      if (timer) {
        clearTimeout(timer);
      }
    });
  }

  function readJson(response) {
    return response.json().catch(function () { return null; }).then(function (body) {
      if (!response.ok || !body) {
        throw errorFrom(body, response.status);
      }
      return body;
    });
  }

  // --- the widget --------------------------------------------------------------------------
  function build() {
    var host = document.createElement("avtal-widget");
    host.setAttribute("data-avtal-widget", "");
    var shadow = host.attachShadow({ mode: "open" });

    // Constructable stylesheets are not blocked by a host page's CSP on inline <style>.
    var adopted = false;
    try {
      if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function") {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        shadow.adoptedStyleSheets = [sheet];
        adopted = true;
      }
    } catch (e) {
      adopted = false;
    }
    if (!adopted) {
      shadow.appendChild(el("style", { text: CSS }));
    }

    var state = { history: [], busy: false, faqLoaded: false, opened: false };

    var launcher = el("button", {
      type: "button", className: "launcher", "aria-expanded": "false", "aria-controls": "avtal-panel",
      "aria-label": config.title + " – " + T.open
    }, [icon("chat"), el("span", { text: config.title })]);

    var closeButton = el("button", { type: "button", className: "close", "aria-label": T.close, title: T.close },
      [icon("close")]);
    var heading = el("h2", { id: "avtal-title", text: config.title });
    var faqList = el("ul");
    var faqBox = el("nav", { className: "faq", "aria-labelledby": "avtal-faq-heading", hidden: true },
      [el("h3", { id: "avtal-faq-heading", text: T.faqHeading }), faqList]);
    var log = el("div", {
      className: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": T.conversation
    });
    var body = el("div", { className: "body" }, [el("p", { className: "intro", text: T.intro }), faqBox, log]);
    var textarea = el("textarea", {
      id: "avtal-q", rows: "2", maxlength: "2000", "aria-describedby": "avtal-notice avtal-help",
      autocomplete: "off"
    });
    var detailed = el("input", { type: "checkbox", id: "avtal-detailed" });
    detailed.checked = config.audience === "utförlig";
    var sendButton = el("button", { type: "submit", className: "send", text: T.send });
    var form = el("form", { className: "ask", novalidate: true }, [
      el("label", { className: "q", for: "avtal-q", text: T.question }),
      textarea,
      el("p", { className: "help", id: "avtal-help", text: T.questionHelp }),
      el("div", { className: "row" }, [
        el("label", { for: "avtal-detailed" }, [detailed, T.detailed]),
        sendButton
      ])
    ]);
    var panel = el("section", {
      className: "panel", id: "avtal-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "avtal-title", hidden: true
    }, [
      el("div", { className: "head" }, [heading, closeButton]),
      el("p", { className: "notice", id: "avtal-notice", text: T.notice }),
      body,
      form
    ]);
    var root = el("div", { className: "root", lang: "sv" }, [panel, launcher]);
    shadow.appendChild(root);

    function scrollToEnd(node) {
      body.scrollTop = node ? Math.max(0, node.offsetTop - body.offsetTop - 8) : body.scrollHeight;
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      if (!state.faqLoaded) {
        state.faqLoaded = true;
        loadFaq();
      }
      textarea.focus();
    }

    function close() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    launcher.addEventListener("click", function () {
      if (panel.hidden) {
        open();
      } else {
        close();
      }
    });
    closeButton.addEventListener("click", close);
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !panel.hidden) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });

    function loadFaq() {
      var path = config.faq ? "/api/faq/" + encodeURIComponent(config.faq) : "/api/faq";
      fetch(config.api + path, { mode: "cors", credentials: "omit", headers: { "Accept": "application/json" } })
        .then(readJson)
        .then(function (data) {
          var section = data.sections ? data.sections[0] : data;
          var questions = (section && section.questions) || [];
          questions.forEach(function (q) {
            var button = el("button", { type: "button", text: q });
            button.addEventListener("click", function () { ask(q); });
            faqList.appendChild(el("li", null, [button]));
          });
          faqBox.hidden = questions.length === 0;
        })
        .catch(function () {
          faqBox.hidden = true; // the FAQ is a convenience; asking still works (or shows its error)
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ask(textarea.value);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        ask(textarea.value);
      }
    });

    function userTurn(question) {
      return el("div", { className: "turn user" }, [
        el("p", { className: "who", text: T.you }),
        el("p", { className: "bubble", text: question })
      ]);
    }

    function answerText(answer) {
      // The answer's [n] markers become links to the cited clauses; everything else is text.
      var p = el("p", { className: "text" });
      var byN = {};
      (answer.citations || []).forEach(function (c) { byN[c.n] = c; });
      var text = String(answer.answer || "");
      var re = /\[(\d+)\]/g;
      var last = 0;
      var match;
      while ((match = re.exec(text)) !== null) {
        var citation = byN[Number(match[1])];
        if (!citation) {
          continue;
        }
        p.appendChild(document.createTextNode(text.slice(last, match.index)));
        p.appendChild(el("a", {
          className: "ref", href: clauseUrl(citation), target: "_blank", rel: "noopener",
          "aria-label": T.sourceRef + " " + citation.n + ": " + citation.title + " " + T.opensNewTab,
          text: match[0]
        }));
        last = match.index + match[0].length;
      }
      p.appendChild(document.createTextNode(text.slice(last)));
      return p;
    }

    function sourcesList(answer) {
      var citations = answer.citations || [];
      if (!citations.length) {
        return null;
      }
      var items = citations.map(function (c) {
        var where = whereText(c);
        return el("li", null, [
          "[" + c.n + "] ",
          el("a", { href: clauseUrl(c), target: "_blank", rel: "noopener", "data-document": c.document }, [
            c.title || c.document,
            el("span", { className: "sr-only", text: " " + T.opensNewTab })
          ]),
          where ? el("span", { className: "where", text: ", " + where }) : null,
          usedWords(c) ? el("q", { text: usedWords(c) }) : null
        ]);
      });
      return el("div", { className: "sources" }, [el("h3", { text: T.sources }), el("ol", null, items)]);
    }

    function suggestionsList(answer) {
      var suggestions = answer.suggestions || [];
      if (!suggestions.length) {
        return null;
      }
      var items = suggestions.map(function (topic) {
        var button = el("button", { type: "button", text: topic });
        button.addEventListener("click", function () { ask(T.suggestionQuestion(topic)); });
        return el("li", null, [button]);
      });
      return el("div", { className: "suggest" }, [el("p", { text: T.suggestions }), el("ul", null, items)]);
    }

    function actions(answer) {
      var status = el("span", { className: "status", role: "status" });
      var up = el("button", { type: "button", "aria-label": T.good, title: T.good, "aria-pressed": "false" },
        [icon("up")]);
      var down = el("button", { type: "button", "aria-label": T.bad, title: T.bad, "aria-pressed": "false" },
        [icon("down")]);
      var copy = el("button", { type: "button", className: "copy" }, [icon("copy"), T.copy]);
      function rate(rating, button) {
        if (up.disabled) {
          return;
        }
        up.disabled = down.disabled = true;
        post("/api/feedback", { answer_id: answer.id, rating: rating, comment: null }, 15000)
          .then(function () {
            button.setAttribute("aria-pressed", "true");
            status.textContent = T.thanks;
          })
          .catch(function (err) {
            up.disabled = down.disabled = false;
            status.textContent = err.message + (err.hint ? " " + err.hint : "");
          });
      }
      up.addEventListener("click", function () { rate("up", up); });
      down.addEventListener("click", function () { rate("down", down); });
      copy.addEventListener("click", function () {
        var text = copyText(answer);
        copy.setAttribute("data-copy-text", text);
        writeClipboard(text).then(
          function () { status.textContent = T.copied; },
          function () { status.textContent = T.copyFailed; }
        );
      });
      return el("div", { className: "actions" }, [up, down, copy, status]);
    }

    function writeClipboard(text) {
      function fallback() {
        var area = el("textarea", { className: "sr-only", "aria-hidden": "true", tabindex: "-1" });
        area.value = text;
        root.appendChild(area);
        area.select();
        var ok = false;
        try {
          ok = document.execCommand("copy");
        } catch (e) {
          ok = false;
        }
        root.removeChild(area);
        return ok ? Promise.resolve() : Promise.reject(new Error("copy"));
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        return navigator.clipboard.writeText(text).catch(fallback);
      }
      return fallback();
    }

    function answerTurn(answer) {
      var bubble = el("div", { className: "bubble" }, [answerText(answer)]);
      (answer.notes || []).forEach(function (note) {
        bubble.appendChild(el("p", { className: "note", text: note }));
      });
      bubble.appendChild(sourcesList(answer) || document.createTextNode(""));
      bubble.appendChild(suggestionsList(answer) || document.createTextNode(""));
      bubble.appendChild(actions(answer));
      return el("article", {
        className: "turn answer" + (answer.abstained ? " abstained" : ""), "data-answer-id": answer.id,
        "aria-label": T.assistant
      }, [el("p", { className: "who", text: T.assistant }), bubble]);
    }

    function errorTurn(err) {
      if (!err || err instanceof Error) {
        err = { message: T.httpError("widget"), hint: T.httpHint }; // a bug here, not the service's answer
      }
      return el("div", { className: "turn error", role: "alert" }, [
        el("p", { className: "who", text: T.assistant }),
        el("div", { className: "bubble" }, [
          el("p", { className: "message", text: err.message || T.networkError }),
          err.hint ? el("p", { className: "hint", text: err.hint }) : null
        ])
      ]);
    }

    function ask(raw) {
      var question = String(raw || "").trim();
      if (state.busy) {
        return;
      }
      if (!question) {
        textarea.focus();
        return;
      }
      if (panel.hidden) {
        open();
      }
      state.busy = true;
      sendButton.disabled = true;
      log.setAttribute("aria-busy", "true");
      textarea.value = "";
      var asked = userTurn(question);
      var thinking = el("p", { className: "turn thinking", text: T.thinking });
      log.appendChild(asked);
      log.appendChild(thinking);
      scrollToEnd(asked);
      var payload = {
        question: question,
        history: state.history.slice(-HISTORY_TURNS),
        audience: detailed.checked ? "utförlig" : "kort",
        documents: config.documents
      };
      post("/api/ask", payload, ASK_TIMEOUT_MS)
        .then(function (answer) {
          state.history.push({ role: "user", content: question }, { role: "assistant", content: answer.answer });
          return answerTurn(answer);
        })
        .catch(errorTurn)
        .then(function (node) {
          log.replaceChild(node, thinking);
          scrollToEnd(asked);
        })
        .finally(function () {
          state.busy = false;
          sendButton.disabled = false;
          log.removeAttribute("aria-busy");
        });
    }

    document.body.appendChild(host);
  }

  if (document.body) {
    build();
  } else {
    document.addEventListener("DOMContentLoaded", build);
  }
})();
