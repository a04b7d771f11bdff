(function(){
var data=JSON.parse(document.getElementById('data').textContent);
var entries=data.entries;
var grid=document.getElementById('grid');
var sortSel=document.getElementById('sort');
var classSel=document.getElementById('filter-class');
var groupSel=document.getElementById('filter-group');
var count=document.getElementById('count');
function pct(p){if(p===null||p===undefined)return '-';return (p*100).toFixed(p>0.9999||p<0.0001?4:2)+'%';}
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
function cls(name){var s=el('span','cls cls-'+String(name).replace(/[^a-z0-9_-]/gi,''),name);return s;}
var classes=[];entries.forEach(function(e){[e.predicted].forEach(function(c){if(c&&classes.indexOf(c)<0)classes.push(c);});});
(data.labels||[]).forEach(function(c){if(classes.indexOf(c)<0)classes.push(c);});
classes.forEach(function(c){var o=el('option',null,c);o.value=c;classSel.appendChild(o);});
if(entries.some(function(e){return e.error;})){var o=el('option',null,'errors');o.value='__error';classSel.appendChild(o);}
var groups=(data.groups||[]);
if(groups.length)document.body.classList.add('wide');
if(groupSel){groups.forEach(function(g){var o=el('option',null,g.name);o.value=g.name;groupSel.appendChild(o);});}
function card(e,i){
  var f=el('figure','card');f.dataset.index=String(i);f.dataset.image=e.image;
  f.dataset.predicted=e.predicted||'';f.dataset.target=e.class||'';f.dataset.min=e.minProbability===null?'':String(e.minProbability);
  if(e.group)f.dataset.group=e.group;
  if(e.overlay){var img=el('img');img.loading='lazy';img.alt='overlay of '+e.image;img.src=e.overlay;f.appendChild(img);}
  else f.appendChild(el('div','noimg',e.error?'no overlay':'not done'));
  var c=el('figcaption');c.appendChild(el('div','name',e.image.split(/[\\/]/).pop()));c.lastChild.title=e.image;
  if(e.error){c.appendChild(el('div','err',e.error));}
  else{
    var p=el('div');p.appendChild(document.createTextNode('predicted '));p.appendChild(cls(e.predicted));p.appendChild(document.createTextNode(' '+pct(e.probability)));c.appendChild(p);
    if(e.truth){var t=el('div');t.appendChild(document.createTextNode('true '));t.appendChild(cls(e.truth));c.appendChild(t);}
    var m=el('div');m.appendChild(document.createTextNode('target '));m.appendChild(cls(e.class));m.appendChild(document.createTextNode(' '+pct(e.classProbability)+' \u2192 '));m.appendChild(el('span','min','min '+pct(e.minProbability)));c.appendChild(m);
  }
  if(e.lowContrast){f.classList.add('flat');f.title='no contrast: '+e.lowContrast;c.appendChild(el('div','flat-note','no contrast: '+e.lowContrast));}
  if(e.note)c.appendChild(el('div','sub',e.note));
  f.appendChild(c);
  f.addEventListener('click',function(){openViewer(e);});
  return f;
}
function key(e,by){
  if(by==='name')return e.image;
  if(by==='probability')return e.probability===null?Infinity:e.probability;
  return e.minProbability===null?Infinity:e.minProbability;
}
function render(){
  var by=sortSel.value,dir=by==='min-desc'?-1:1,k=by==='min-desc'?'min':by;
  var want=classSel.value,g=groupSel?groupSel.value:'';
  var idx=entries.map(function(e,i){return i;}).filter(function(i){
    var e=entries[i];
    if(want==='__error'&&!e.error)return false;
    if(want&&want!=='__error'&&e.predicted!==want)return false;
    if(g&&e.group!==g)return false;
    return true;
  });
  idx.sort(function(a,b){var x=key(entries[a],k),y=key(entries[b],k);
    if(x===y)return entries[a].image<entries[b].image?-1:1;
    if(x===Infinity)return 1;if(y===Infinity)return -1;
    return (x<y?-1:1)*dir;});
  grid.textContent='';
  if(groups.length){
    groups.forEach(function(gr){
      var inGroup=idx.filter(function(i){return entries[i].group===gr.name;});
      if(!inGroup.length)return;
      var h=el('div','group',gr.name);h.dataset.group=gr.name;
      h.appendChild(el('small',null,inGroup.length+' frame(s)'+(gr.description?' — '+gr.description:'')));
      grid.appendChild(h);
      inGroup.forEach(function(i){grid.appendChild(card(entries[i],i));});
    });
    idx.filter(function(i){return !entries[i].group;}).forEach(function(i){grid.appendChild(card(entries[i],i));});
  } else idx.forEach(function(i){grid.appendChild(card(entries[i],i));});
  count.textContent=idx.length+' of '+entries.length+' shown';
  count.dataset.shown=String(idx.length);
}
var viewer=document.getElementById('viewer');
function openViewer(e){
  document.getElementById('viewer-title').textContent=e.image+(e.error?' \u2014 '+e.error:e.predicted?' \u2014 predicted '+e.predicted+' '+pct(e.probability)+(e.truth?', true '+e.truth:'')+', target '+e.class+' min '+pct(e.minProbability):'');
  var ov=document.getElementById('viewer-overlay'),orig=document.getElementById('viewer-original');
  ov.parentNode.style.display=e.overlay?'':'none';if(e.overlay)ov.src=e.overlay;
  orig.parentNode.style.display=e.original?'':'none';if(e.original)orig.src=e.original;
  viewer.classList.add('open');
}
function closeViewer(){viewer.classList.remove('open');}
document.getElementById('close').addEventListener('click',closeViewer);
viewer.addEventListener('click',function(ev){if(ev.target===viewer)closeViewer();});
document.addEventListener('keydown',function(ev){if(ev.key==='Escape')closeViewer();});
sortSel.addEventListener('change',render);classSel.addEventListener('change',render);if(groupSel)groupSel.addEventListener('change',render);
render();
})();
