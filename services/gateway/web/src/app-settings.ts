// What the gateway tells the page about the platform it serves: data- attributes of the page's
// root element (the CSP allows no inline script, so no settings object in the HTML).

export interface AppSettings {
  /** auth's issuer, `<PUBLIC_URL>/auth`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly signedOutUri: string;
  /** The resource (RFC 8707) the tokens are for: the platform-wide audience. */
  readonly resource: string;
  readonly scopes: readonly string[];
  /** The public URL the API is called at (the gateway). */
  readonly apiUrl: string;
}

export function readAppSettings(root: HTMLElement): AppSettings {
  const read = (name: string): string => {
    const value = root.dataset[name];
    if (value === undefined || value === '') throw new Error(`the page has no data-${name} setting`);
    return value;
  };
  return {
    issuer: read('issuer'),
    clientId: read('clientId'),
    redirectUri: read('redirectUri'),
    signedOutUri: read('signedOutUri'),
    resource: read('resource'),
    scopes: read('scopes').split(' '),
    apiUrl: read('apiUrl'),
  };
}
