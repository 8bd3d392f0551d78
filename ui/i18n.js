import { zh } from './lang/zh.js';

/**
 * The app's languages: English (the texts in the code) and Simplified Chinese (ui/lang/zh.js, keyed
 * by the English text). The browser's language picks one; the People page switches (kept on this
 * phone). `t(text, vars)` fills in the text's {braces} from vars.
 */
const KEY = 'trellis.lang';
export const LANGUAGES = [
  ['en', 'English'],
  ['zh', '中文'],
];

const stored = () => {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
};
let current = stored() ?? (navigator.language?.toLowerCase().startsWith('zh') ? 'zh' : 'en');
document.documentElement.lang = current === 'zh' ? 'zh-Hans' : 'en';

export const lang = () => current;

export function setLang(l) {
  localStorage.setItem(KEY, l);
  current = l;
  location.reload(); // every view renders again in the new language
}

export function t(text, vars) {
  let s = current === 'zh' ? (zh[text] ?? text) : text;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
