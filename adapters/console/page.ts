/** The console page: pick a demo user and a place, type, see the answer. */
import type { Demo } from './demo.js';

/** Idempotency keys of direct messages from Quorum (budget alerts), not answers: the page shows them per user. */
export const NOTIFY_KEY_PREFIX = 'notify:';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function consolePage(demo: Demo): string {
  const userOptions = demo.users.map((u) => `<option value="${escape(u.id)}">${escape(u.name)}</option>`).join('');
  const placeOptions = [
    '<option value="dm">Direct message with Quorum</option>',
    ...demo.channels.map((c) => `<option value="${escape(c.id)}">${escape(c.name)}</option>`),
  ].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quorum console</title>
<style>
body{font:15px system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#222}
header{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
#log{border:1px solid #ccc;border-radius:6px;padding:.5rem;min-height:300px;margin:1rem 0;white-space:pre-wrap}
.me{color:#035;margin:.4rem 0}.bot{color:#222;margin:.4rem 0 .8rem 1rem}.error{color:#a00}.private{font-style:italic}
form{display:flex;gap:.5rem}input[name=text]{flex:1;padding:.4rem}
small{color:#666}
</style></head>
<body>
<h1>Quorum console</h1>
<p><small>${escape(demo.workspace.name)}: a local demo workspace. Talk as any user, in a DM or a channel. Try <code>/agent help</code> or <code>/agent status</code>.</small></p>
<header>
<label>User <select id="user">${userOptions}</select></label>
<label>Where <select id="place">${placeOptions}</select></label>
<label><input type="checkbox" id="thread"> continue thread</label>
</header>
<div id="log" aria-live="polite"></div>
<form id="f"><input name="text" autocomplete="off" placeholder="Ask something…" required><button>Send</button></form>
<script>
const log=document.getElementById('log');let lastThread=null;
async function late(user,key){for(let i=0;i<60;i++){await new Promise(r=>setTimeout(r,2000));
const r=await fetch('/console/api/replies?user='+encodeURIComponent(user)+'&key='+encodeURIComponent(key));const j=await r.json();if(j.replies&&j.replies.length)return j.replies[0];}return null;}
function line(cls,text){const d=document.createElement('div');d.className=cls;d.textContent=text;log.appendChild(d);log.scrollTop=log.scrollHeight;}
const seen=new Set();
async function notices(user){try{const r=await fetch('/console/api/replies?user='+encodeURIComponent(user));const j=await r.json();
for(const n of j.replies||[]){if(!n.idempotencyKey.startsWith(${JSON.stringify(NOTIFY_KEY_PREFIX)})||seen.has(n.idempotencyKey))continue;seen.add(n.idempotencyKey);line('bot private','Quorum, to '+user+' only: '+n.text);}}catch(err){}}
document.getElementById('user').addEventListener('change',(e)=>notices(e.target.value));
document.getElementById('f').addEventListener('submit',async(e)=>{e.preventDefault();
const text=e.target.text.value;e.target.text.value='';
const user=document.getElementById('user').value,channel=document.getElementById('place').value;
const body={user,channel,text};if(document.getElementById('thread').checked&&lastThread&&channel!=='dm')body.threadId=lastThread;
line('me',user+' in '+(channel==='dm'?'DM':'#'+channel)+': '+text);
try{const r=await fetch('/console/api/messages',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body)});
const j=await r.json();if(!r.ok){line('bot error',j.error||('HTTP '+r.status));return;}
lastThread=j.threadId;if(!j.reply){line('bot','(still working: the answer will appear here)');j.reply=await late(user,j.key);if(!j.reply)return;}
line('bot'+(j.reply.kind==='error'?' error':'')+(j.reply.private?' private':''),'Quorum'+(j.reply.private?' (only you see this)':'')+': '+j.reply.text);
await notices(user);
}catch(err){line('bot error','Could not reach Quorum: '+err.message);}});
</script>
</body></html>`;
}
