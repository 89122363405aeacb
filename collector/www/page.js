// page.js - the static pages (home, results, refused link): language only.
import { initLang } from "./i18n.js";

initLang();
