// The web chat page: opens a chat session at the server, then talks over socket.io with its token.
// A portal sign-in hands its token in the address fragment (#portal_token=...), never sent in a URL.
(function () {
  "use strict";
  var TEXT = {
    zh: { title: "大客户服务", send: "发送", placeholder: "请输入您的问题", connecting: "正在连接…",
          ready: "已连接，请问有什么可以帮您？", verified: "已通过门户登录验证身份。",
          expired: "会话已过期，已为您开启新的会话，请重新发送。", refused: "消息未发送：",
          failed: "暂时无法连接，请稍后刷新页面重试。", portal: "门户登录未通过：",
          busy: "此网络开启的会话过多，请稍后再试。" },
    en: { title: "Key-account care", send: "Send", placeholder: "Type your question", connecting: "Connecting…",
          ready: "Connected. How can we help?", verified: "Signed in through the enterprise portal.",
          expired: "The session expired; a new one is open, please send your message again.",
          refused: "Message not sent: ", failed: "Cannot connect right now; please reload the page later.",
          portal: "Portal sign-in refused: ",
          busy: "Too many chats opened from this network; please try again later." }
  };
  var params = new URLSearchParams(location.search);
  var lang = params.get("lang") || ((navigator.language || "zh").toLowerCase().indexOf("zh") === 0 ? "zh" : "en");
  if (!TEXT[lang]) { lang = "zh"; }
  var t = TEXT[lang];
  var portalToken = new URLSearchParams(location.hash.slice(1)).get("portal_token");
  var log = document.getElementById("log"), input = document.getElementById("input");
  var send = document.getElementById("send"), status = document.getElementById("status");
  var socket = null, session = null;

  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.getElementById("title").textContent = t.title;
  send.textContent = t.send;
  input.placeholder = t.placeholder;

  function add(kind, text) {
    var item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function ready(on) {
    input.disabled = send.disabled = !on;
    if (on) { input.focus(); }
  }

  function openSession() {
    var body = portalToken ? { portal_token: portalToken } : {};
    portalToken = null;  // used once: a new session after expiry starts unverified
    history.replaceState(null, "", location.pathname + location.search);
    return fetch("/webhooks/rest/session", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (answer) {
      return answer.json().then(function (data) {
        if (answer.status === 429) { throw new Error(t.busy); }
        if (!answer.ok) { throw new Error((body.portal_token ? t.portal : "") + (data.error || answer.status)); }
        return data;
      });
    });
  }

  function connect() {
    ready(false);
    status.textContent = t.connecting;
    openSession().then(function (opened) {
      session = opened;
      if (socket) { socket.disconnect(); }
      socket = io({ auth: { token: session.token }, transports: ["websocket", "polling"], reconnection: false });
      socket.on("connect", function () { socket.emit("session_request", { session_id: session.session_id }); });
      socket.on("session_confirm", function () {
        status.textContent = session.verified ? t.verified : t.ready;
        document.body.dataset.session = "ready";
        document.body.dataset.conversation = session.session_id;
        ready(true);
      });
      socket.on("bot_uttered", function (message) { if (message && message.text) { add("bot", message.text); } });
      socket.on("input_refused", function (refusal) {
        if (refusal && refusal.status === 401) { add("notice", t.expired); connect(); }
        else { add("notice", t.refused + (refusal && refusal.error)); }
      });
      socket.on("connect_error", function () { status.textContent = t.failed; ready(false); });
    }).catch(function (error) {
      status.textContent = error.message && error.message !== "Failed to fetch" ? error.message : t.failed;
    });
  }

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || !socket) { return; }
    add("user", text);
    socket.emit("user_uttered", { message: text, session_id: session.session_id });
    input.value = "";
  });

  connect();
}());
