import { existsSync } from 'node:fs';

function firstExisting(envName: string, candidates: readonly string[]): string {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** Firefox ESR: `FIREFOX_PATH`, else Debian's `firefox-esr`. */
export function firefoxPath(): string {
  return firstExisting('FIREFOX_PATH', ['/usr/bin/firefox-esr', '/usr/bin/firefox']);
}

/** WebKitGTK's MiniBrowser (shipped by `libwebkit2gtk-4.1-0`): `MINIBROWSER_PATH`, else Debian's location. */
export function miniBrowserPath(): string {
  return firstExisting('MINIBROWSER_PATH', ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser']);
}

/** WebKitGTK's WebDriver (`webkit2gtk-driver`): `WEBKIT_WEBDRIVER_PATH`, else `/usr/bin/WebKitWebDriver`. */
export function webkitDriverPath(): string {
  return firstExisting('WEBKIT_WEBDRIVER_PATH', ['/usr/bin/WebKitWebDriver']);
}
