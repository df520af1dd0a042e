// Times, durations and distances as both pages show them: times in WIB (Asia/Jakarta) in
// the page's language, whatever the device's time zone.

import { now } from "./clock.js";

const TZ = "Asia/Jakarta";
const locale = document.documentElement.lang === "en" ? "en-GB" : "id-ID";
const timeFmt = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const dayFmt = new Intl.DateTimeFormat(locale, { timeZone: TZ, day: "numeric", month: "short" });
const dayTimeFmt = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});
const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });
const kmFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });

/** A moment as read in WIB: the time to the second, with the day when it is not today. */
export function wib(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  const sameDay = dayKey.format(moment) === dayKey.format(new Date(now()));
  return (sameDay ? "" : dayFmt.format(moment) + " ") + timeFmt.format(moment) + " WIB";
}

/** A moment in WIB, to the second, without the day ("14.03.05 WIB"). */
export function wibTime(iso) {
  return iso ? timeFmt.format(new Date(iso)) + " WIB" : "";
}

/** A moment in WIB with its day, to the minute ("3 Mei 14.03 WIB"). */
export function wibDayTime(iso) {
  return iso ? dayTimeFmt.format(new Date(iso)) + " WIB" : "";
}

/** The server's time now, in WIB. */
export function clockText() {
  return wibTime(now());
}

/** Seconds as m:ss or h:mm:ss (negative with a minus sign). */
export function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let s = Math.floor(Math.abs(seconds));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  const mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
  return sign + (hours ? hours + ":" : "") + mm + ":" + String(s).padStart(2, "0");
}

/** A travel time in whole minutes, at least 1. */
export function minutes(seconds) {
  return Math.max(1, Math.round(seconds / 60));
}

/** Metres as kilometres in the page's language, to one decimal ("0,4"), without the unit. */
export function km(metres) {
  return kmFmt.format(metres / 1000);
}

/** A short distance for lists and tables: "850 m", "1.5 km"; "–" when unknown. */
export function distanceText(metres) {
  if (metres === null || metres === undefined) return "–";
  return metres < 1000 ? Math.round(metres) + " m" : (metres / 1000).toFixed(1) + " km";
}
