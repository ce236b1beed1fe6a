import { api, errorBody, session, type User } from './api';
import { fill, h } from './dom';
import { plainMessage } from './messages';

/**
 * Sign in / register / sign out. The token goes to localStorage; `onChange` runs after each change so the
 * page can reconnect its socket with the new `auth.token`.
 */
export function authPanel(onChange: (user: User | null) => void): HTMLElement {
  const root = h('div', { class: 'auth', id: 'auth' });
  let mode: 'login' | 'register' = 'login';

  const render = () => {
    const s = session.get();
    if (s) {
      fill(
        root,
        h('span', { class: 'who', id: 'signed-in-as' }, `Signed in as ${s.user.name}`, s.user.role !== 'user' ? ` (${s.user.role.replace('_', ' ')})` : ''),
        h('button', {
          type: 'button',
          id: 'sign-out',
          onclick: () => {
            session.clear();
            render();
            onChange(null);
          },
          text: 'Sign out',
        }),
      );
      return;
    }
    const error = h('p', { class: 'form-error', role: 'alert', id: 'auth-error' });
    const email = h('input', { type: 'email', name: 'email', id: 'auth-email', autocomplete: 'username', required: true, placeholder: 'you@example.com' });
    const password = h('input', { type: 'password', name: 'password', id: 'auth-password', autocomplete: mode === 'login' ? 'current-password' : 'new-password', required: true, minlength: mode === 'register' ? 8 : undefined });
    const name = h('input', { type: 'text', name: 'name', id: 'auth-name', autocomplete: 'name', required: true, maxlength: 100 });
    const form = h(
      'form',
      { class: 'auth-form', id: 'auth-form' },
      mode === 'register' ? h('label', {}, 'Name ', name) : null,
      h('label', {}, 'Email ', email),
      h('label', {}, 'Password ', password),
      h('button', { type: 'submit', id: 'auth-submit', text: mode === 'login' ? 'Sign in' : 'Create account' }),
      h('button', {
        type: 'button',
        class: 'link',
        id: 'auth-toggle',
        text: mode === 'login' ? 'New here? Register' : 'Have an account? Sign in',
        onclick: () => {
          mode = mode === 'login' ? 'register' : 'login';
          render();
        },
      }),
      error,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      try {
        const body = mode === 'login' ? { email: email.value, password: password.value } : { email: email.value, password: password.value, name: name.value };
        const reply = await api<{ user: User; token: string }>('POST', `/api/auth/${mode}`, body);
        session.set(reply.token, reply.user);
        mode = 'login';
        render();
        onChange(reply.user);
      } catch (err) {
        error.textContent = plainMessage(errorBody(err));
      }
    });
    fill(root, form);
  };
  render();
  return root;
}
