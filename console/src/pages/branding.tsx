// Branding of an app's hosted pages: the settings and a live preview of the sign-in
// page drawn from the unsaved values (docs/src/console.md#branding).
import type { CSSProperties } from 'react';

export interface BrandingForm {
  productName: string;
  logoUrl: string;
  primaryColor: string;
  backgroundColor: string;
  customCssUrl: string;
}

export const emptyBranding: BrandingForm = {
  productName: '',
  logoUrl: '',
  primaryColor: '',
  backgroundColor: '',
  customCssUrl: '',
};

const HEX = /^#[0-9a-fA-F]{6}$/;

/** Whether `value` is a colour the server accepts (`#rrggbb`). */
export function isColor(value: string): boolean {
  return HEX.test(value.trim());
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG contrast ratio of two `#rrggbb` colours. */
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** The button text the hosted pages put on `primary`: black or white, whichever reads better. */
export function buttonText(primary: string): '#000000' | '#ffffff' {
  return contrast(primary, '#000000') >= contrast(primary, '#ffffff') ? '#000000' : '#ffffff';
}

/** The GraphQL `BrandingInput` of the form: empty fields clear their setting. */
export function brandingInput(form: BrandingForm) {
  const value = (s: string) => (s.trim() === '' ? null : s.trim());
  return {
    productName: value(form.productName),
    logoUrl: value(form.logoUrl),
    primaryColor: value(form.primaryColor),
    backgroundColor: value(form.backgroundColor),
    customCssUrl: value(form.customCssUrl),
  };
}

/**
 * A picture of the hosted sign-in page with these values (the console's own CSP
 * allows images from its origin only, so a logo on another origin is named, not shown).
 */
export function BrandingPreview({ form, appName }: { form: BrandingForm; appName: string }) {
  const primary = isColor(form.primaryColor) ? form.primaryColor.trim() : '#2457c5';
  const background = isColor(form.backgroundColor) ? form.backgroundColor.trim() : '#f3f5f9';
  const name = form.productName.trim() || appName;
  const logo = form.logoUrl.trim();
  const sameOrigin = logo.startsWith('/') && !logo.startsWith('//');
  const page: CSSProperties = { background, padding: '1.5rem', borderRadius: 8 };
  const card: CSSProperties = {
    background: '#ffffff',
    color: '#1b1f29',
    maxWidth: 320,
    margin: '0 auto',
    padding: '1.25rem',
    borderRadius: 8,
    boxShadow: '0 1px 3px rgba(0,0,0,.2)',
  };
  const button: CSSProperties = {
    background: primary,
    color: buttonText(primary),
    border: 0,
    borderRadius: 6,
    padding: '.5rem 1rem',
    width: '100%',
    fontWeight: 600,
  };
  return (
    <figure className="branding-preview" aria-label="Preview of the hosted sign-in page" data-testid="branding-preview">
      <div style={page}>
        <div style={card}>
          {logo ? (
            sameOrigin ? (
              <img src={logo} alt={`${name} logo`} style={{ maxHeight: 40 }} />
            ) : (
              <p style={{ fontSize: '.8rem', color: '#4a5161' }}>Logo: {logo}</p>
            )
          ) : null}
          <p style={{ fontSize: '1.25rem', fontWeight: 700, margin: '.5rem 0' }} data-testid="branding-preview-title">
            Sign in to {name}
          </p>
          <p style={{ margin: '.25rem 0', fontSize: '.9rem' }}>Email</p>
          <div style={{ border: '1px solid #767c8a', borderRadius: 6, height: 32, marginBottom: 8 }} />
          <p style={{ margin: '.25rem 0', fontSize: '.9rem' }}>Password</p>
          <div style={{ border: '1px solid #767c8a', borderRadius: 6, height: 32, marginBottom: 12 }} />
          <button type="button" tabIndex={-1} aria-hidden="true" style={button} data-testid="branding-preview-button">
            Sign in
          </button>
        </div>
      </div>
      <figcaption className="note">
        Button text {buttonText(primary) === '#000000' ? 'black' : 'white'} (contrast {contrast(primary, buttonText(primary)).toFixed(1)}:1)
        {form.customCssUrl.trim() ? ' · your style sheet is applied on the real page only' : ''}
      </figcaption>
    </figure>
  );
}
