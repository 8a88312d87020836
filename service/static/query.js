// The SPARQL query page: highlighting behind the textarea, PREFIX insertion, and queries run by fetch with the
// answer drawn as a table. Without this script the form GETs /sparql?query=… and the server draws the same table.
(() => {
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  if (!form || !editor) return;
  const highlight = form.querySelector(".highlight code");
  const status = document.getElementById("status");
  const answer = document.getElementById("answer-body");
  const base = form.dataset.base;
  const root = form.dataset.root;
  const downloads = JSON.parse(form.dataset.downloads);
  const ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9";
  const XSD = "http://www.w3.org/2001/XMLSchema#";

  // Highlighting: the tokens of graph/lexer.py, coloured in a <pre> that follows the textarea.
  const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(<[^<>"{}|^`\\\s]*>)|([?$]\w+)|([A-Za-z_][\w-]*(?::[\w.-]*)?|:[\w.-]*)|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([\s\S])/g;
  const KEYWORDS = new Set(("a base prefix select construct describe ask where from named distinct reduced as " +
    "optional union minus graph service silent filter bind values group by order asc desc having limit offset " +
    "not exists in true false undef str lang langmatches datatype bound iri uri bnode rand abs ceil floor round " +
    "concat strlen ucase lcase encode_for_uri contains strstarts strends strbefore strafter year month day " +
    "hours minutes seconds timezone tz now uuid struuid md5 sha1 sha256 sha384 sha512 coalesce if strlang " +
    "strdt sameterm isiri isuri isblank isliteral isnumeric regex substr replace count sum min max avg sample " +
    "group_concat separator lateral").split(" "));
  const CLASSES = ["comment", "str", "iri", "var", null, "num"];

  const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  function tokenClass(match) {
    const group = match.slice(1).findIndex((g) => g !== undefined);
    if (group !== 4) return CLASSES[group] || null;
    if (match[0].includes(":")) return "pname";
    return KEYWORDS.has(match[0].toLowerCase()) ? "kw" : null;
  }

  function paint() {
    const parts = [];
    for (const match of editor.value.matchAll(TOKEN)) {
      const cls = tokenClass(match);
      const text = escapeHtml(match[0]);
      parts.push(cls ? `<span class="${cls}">${text}</span>` : text);
    }
    highlight.innerHTML = parts.join("") + "\n ";
    follow();
  }

  function follow() {
    highlight.parentElement.scrollTop = editor.scrollTop;
    highlight.parentElement.scrollLeft = editor.scrollLeft;
  }

  // PREFIX lines: inserted after the ones the query has, once each.
  function insertPrefix(name, iri) {
    if (new RegExp(`^\\s*PREFIX\\s+${name}:`, "im").test(editor.value)) return;
    const lines = editor.value.split("\n");
    let at = 0;
    lines.forEach((line, i) => { if (/^\s*(PREFIX|BASE)\b/i.test(line)) at = i + 1; });
    lines.splice(at, 0, `PREFIX ${name}: <${iri}>`);
    editor.value = lines.join("\n");
    paint();
  }

  // Answers: SPARQL JSON results or N-Triples, as the table the server draws (service/query_page.py).
  const NT_TERM = /<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?/g;

  function unescapeNt(text) {
    return text.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u, U, c) =>
      u || U ? String.fromCodePoint(parseInt(u || U, 16)) : ({ t: "\t", b: "\b", n: "\n", r: "\r", f: "\f" }[c] ?? c));
  }

  function ntTerm(m) {
    if (m[1] !== undefined) return { type: "uri", value: unescapeNt(m[1]) };
    if (m[2] !== undefined) return { type: "bnode", value: m[2] };
    return { type: "literal", value: unescapeNt(m[3]), "xml:lang": m[4], datatype: m[5] };
  }

  function triples(text) {
    const rows = text.split("\n").filter((line) => line.trim());
    return rows.map((line) => [...line.matchAll(NT_TERM)].slice(0, 3).map(ntTerm));
  }

  // Where an IRI links: its document here when under the base, else itself. Keep in step with
  // document_path in service/html.py, which links the tables the server draws.
  function linkOf(iri) {
    if (!iri.startsWith(base)) return /^(https?|urn):/i.test(iri) ? iri : null;  // never a javascript: link
    const rest = iri.slice(base.length);
    let path = "/" + rest;
    if (rest.startsWith("id/")) path = "/doc/" + rest.slice(3);
    else if (rest === "def/") path = "/def/";
    else if (rest.startsWith("def/")) path = "/doc/" + rest;
    else if (rest.startsWith("graph/")) path = "/rdf-graph-store?graph=" + encodeURIComponent(iri);
    const lang = new URL(location.href).searchParams.get("lang");
    return root + path + (lang ? `${path.includes("?") ? "&" : "?"}lang=${encodeURIComponent(lang)}` : "");
  }

  function element(name, props = {}, ...children) {
    const node = Object.assign(document.createElement(name), props);
    node.append(...children);
    return node;
  }

  function cell(term) {
    const td = element("td");
    if (!term) return td;
    const href = term.type === "uri" ? linkOf(term.value) : null;
    if (href) td.append(element("a", { href, textContent: term.value }));
    else if (term.type === "uri") td.append(term.value);
    else td.append(term.type === "bnode" ? "_:" + term.value : term.value);
    const note = term["xml:lang"] ? "@" + term["xml:lang"] : term.datatype ? "^^" + term.datatype.replace(XSD, "xsd:") : "";
    if (note) td.append(" ", element("span", { className: "term-note", textContent: note }));
    return td;
  }

  function caption(kind, count) {
    if (kind === "ask") return "Answer to the ASK query";
    return `${count} ${kind === "graph" ? "triple" : "row"}${count === 1 ? "" : "s"}`;
  }

  function table(kind, columns, rows) {
    const head = element("tr", {}, ...columns.map((c) => element("th", { scope: "col", textContent: c })));
    const body = rows.map((row) => element("tr", {}, ...row.map(cell)));
    return element("table", { id: "results" }, element("caption", { textContent: caption(kind, rows.length) }),
      element("thead", {}, head), element("tbody", {}, ...body));
  }

  function answerOf(contentType, text) {
    if (contentType.startsWith("application/n-triples")) {
      return { kind: "graph", columns: ["subject", "predicate", "object"], rows: triples(text) };
    }
    const body = JSON.parse(text);
    if ("boolean" in body) {
      return { kind: "ask", columns: ["answer"], rows: [[{ type: "literal", value: body.boolean ? "yes" : "no" }]] };
    }
    const columns = body.head.vars;
    return { kind: "select", columns, rows: body.results.bindings.map((b) => columns.map((c) => b[c])) };
  }

  function downloadLinks(kind, query) {
    const links = downloads[kind].map(([label, format]) => {
      const url = new URL(pageUrl(query));
      url.searchParams.set("format", format);
      return element("a", { href: url.pathname + url.search, textContent: label });
    });
    return element("p", { className: "downloads" }, "Download: ", ...links);
  }

  function showAnswer(result, query, truncatedAt) {
    const parts = [downloadLinks(result.kind, query)];
    if (truncatedAt) {
      parts.push(element("p", { className: "truncated", textContent:
        `The answer has more than ${truncatedAt} rows: only the first ${truncatedAt} are shown (and downloaded).` }));
    }
    parts.push(element("div", { className: "scroll" }, table(result.kind, result.columns, result.rows)));
    answer.replaceChildren(...parts);
  }

  function showProblem(problem) {
    const box = element("div", { className: "problem" },
      element("p", {}, element("strong", { textContent: problem.title || "Error" }), ` (HTTP ${problem.status})`),
      element("pre", { textContent: problem.detail || "" }));
    box.setAttribute("role", "alert");
    answer.replaceChildren(box);
  }

  function pageUrl(query) {
    const url = new URL(form.action, location.href);
    url.searchParams.set("query", query);
    const lang = new URL(location.href).searchParams.get("lang");
    if (lang) url.searchParams.set("lang", lang);
    return url.href;
  }

  async function run(remember = true) {
    const query = editor.value;
    if (remember) history.pushState(null, "", pageUrl(query));
    status.textContent = "Running the query…";
    const started = performance.now();
    let response;
    try {
      // POSTed, so that no cached answer stands in for the page when the browser goes back to its URL
      response = await fetch(form.action, { method: "POST", headers: { Accept: ACCEPT }, body: new URLSearchParams({ query }) });
    } catch {
      status.textContent = "The server could not be reached.";
      return;
    }
    const text = await response.text();
    const contentType = response.headers.get("content-type") || "";
    if (!response.ok) {
      showProblem(contentType.includes("json") ? JSON.parse(text) : { status: response.status, detail: text });
      status.textContent = "The query failed.";
      return;
    }
    const truncated = /limit=(\d+)/.exec(response.headers.get("result-truncated") || "");
    const result = answerOf(contentType, text);
    showAnswer(result, query, truncated && truncated[1]);
    const took = Math.round(performance.now() - started);
    status.textContent = `${caption(result.kind, result.rows.length)} in ${took} ms.`;
  }

  editor.parentElement.classList.add("highlighting");
  editor.addEventListener("input", paint);
  editor.addEventListener("scroll", follow);
  new ResizeObserver(follow).observe(editor);
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  for (const button of form.querySelectorAll("button.insert")) {
    button.hidden = false;
    button.addEventListener("click", () => insertPrefix(button.dataset.prefix, button.dataset.iri));
  }
  const all = document.getElementById("insert-prefixes");
  all.hidden = false;
  all.addEventListener("click", () => {
    for (const button of form.querySelectorAll("button.insert")) {
      insertPrefix(button.dataset.prefix, button.dataset.iri);
    }
  });
  for (const link of document.querySelectorAll("a.example")) {
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      editor.value = new URL(link.href).searchParams.get("query");
      paint();
      run();
    });
  }
  window.addEventListener("popstate", () => {
    const query = new URL(location.href).searchParams.get("query");
    if (query === null) return;
    editor.value = query;
    paint();
    run(false);
  });
  paint();
})();
