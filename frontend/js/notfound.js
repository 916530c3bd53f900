// The not-found page: only the nav (its wallet button works as on every page).
import { initNav } from "./wallet.js";

initNav();
