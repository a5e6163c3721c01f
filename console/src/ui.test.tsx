import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { ApiError } from './api';
import { Action, CapabilitiesContext, ErrorBox, SecretOnce } from './ui';

afterEach(cleanup);

describe('components', () => {
  it('shows every error message, its code and the missing permission', () => {
    const error = new ApiError(
      [
        { message: 'first problem', extensions: { code: 'BAD_USER_INPUT' } },
        { message: 'missing permissions: user.update', extensions: { code: 'FORBIDDEN', missing: ['user.update'] } },
      ],
      200,
    );
    render(<ErrorBox error={error} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('first problem');
    expect(alert.textContent).toContain('(BAD_USER_INPUT)');
    expect(alert.textContent).toContain('Missing permission: user.update');
  });

  it('disables an action the principal may not do and names the permission', () => {
    const onClick = vi.fn();
    render(
      <CapabilitiesContext.Provider value={{ root: false, missing: (p) => (p === 'user.update' ? p : null) }}>
        <Action need="user.update" onClick={onClick}>
          Deactivate
        </Action>
        <Action need="user.read" onClick={onClick}>
          View
        </Action>
      </CapabilitiesContext.Provider>,
    );
    const forbidden = screen.getByRole('button', { name: 'Deactivate' }) as HTMLButtonElement;
    expect(forbidden.disabled).toBe(true);
    expect(screen.getByText('Requires user.update')).toBeTruthy();
    expect(forbidden.getAttribute('aria-describedby')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'View' }));
    expect(onClick).toHaveBeenCalledTimes(1);
  });

  it('shows a secret once with a copy button', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(<SecretOnce label="Client secret" secret="hm_sec_abc" />);
    expect((screen.getByLabelText('Client secret') as HTMLInputElement).value).toBe('hm_sec_abc');
    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await screen.findByRole('button', { name: 'Copied' });
    expect(writeText).toHaveBeenCalledWith('hm_sec_abc');
  });
});
