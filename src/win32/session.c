/* Windows backend, logoff and shutdown in programs that use windows.
 *
 * A process that has loaded user32.dll or gdi32.dll never gets
 * CTRL_LOGOFF_EVENT or CTRL_SHUTDOWN_EVENT through its console handler:
 * Windows tells it through WM_QUERYENDSESSION and WM_ENDSESSION, sent to its
 * top-level windows. So when SIGTERM is first watched in such a process, xsig
 * makes a hidden top-level window on a thread of its own. xsig never loads
 * user32 itself: doing so would take these events from every console program
 * that links xsig. */
#include "win32_int.h"
#include "../common/xsig_int.h"

typedef ATOM(WINAPI *register_class_fn)(const WNDCLASSEXW *);
typedef HWND(WINAPI *create_window_fn)(DWORD, LPCWSTR, LPCWSTR, DWORD, int, int, int, int, HWND,
                                       HMENU, HINSTANCE, LPVOID);
typedef BOOL(WINAPI *get_message_fn)(LPMSG, HWND, UINT, UINT);
typedef LRESULT(WINAPI *dispatch_message_fn)(const MSG *);
typedef LRESULT(WINAPI *def_window_proc_fn)(HWND, UINT, WPARAM, LPARAM);

static struct {
  register_class_fn register_class;
  create_window_fn create_window;
  get_message_fn get_message;
  dispatch_message_fn dispatch_message;
  def_window_proc_fn def_window_proc;
} u32;

static SRWLOCK lock = SRWLOCK_INIT;
static int window_up; /* under lock */

static LRESULT CALLBACK window_proc(HWND w, UINT m, WPARAM wp, LPARAM lp) {
  if (m == WM_QUERYENDSESSION) return TRUE; /* the program may end: it will, on SIGTERM */
  /* Windows ends the process when this returns, as when a console handler
   * returns: the console handler's own path delivers and holds. */
  if (m == WM_ENDSESSION && wp)
    xsig__win32_console_handler(lp & ENDSESSION_LOGOFF ? CTRL_LOGOFF_EVENT : CTRL_SHUTDOWN_EVENT);
  if (m == WM_ENDSESSION) return 0;
  return u32.def_window_proc(w, m, wp, lp);
}

struct start {
  HANDLE ready;
  DWORD err; /* 0 when the window is up */
};

static DWORD WINAPI window_main(void *arg) {
  struct start *st = arg;
  static const wchar_t name[] = L"xsig session end";
  WNDCLASSEXW wc = {0};
  MSG msg;
  wc.cbSize = sizeof wc;
  wc.lpfnWndProc = window_proc;
  wc.hInstance = GetModuleHandleW(NULL);
  wc.lpszClassName = name;
  /* Top-level and never shown: message-only windows get no session messages. */
  HWND w = u32.register_class(&wc) ? u32.create_window(0, name, name, WS_OVERLAPPED, 0, 0, 0, 0,
                                                       NULL, NULL, wc.hInstance, NULL)
                                   : NULL;
  st->err = w ? 0 : GetLastError() ? GetLastError() : ERROR_NOT_SUPPORTED;
  SetEvent(st->ready);
  if (!w) return 0;
  while (u32.get_message(&msg, NULL, 0, 0) > 0) u32.dispatch_message(&msg);
  return 0;
}

static int bind_user32(HMODULE m) {
  u32.register_class = (register_class_fn)(void (*)(void))GetProcAddress(m, "RegisterClassExW");
  u32.create_window = (create_window_fn)(void (*)(void))GetProcAddress(m, "CreateWindowExW");
  u32.get_message = (get_message_fn)(void (*)(void))GetProcAddress(m, "GetMessageW");
  u32.dispatch_message = (dispatch_message_fn)(void (*)(void))GetProcAddress(m, "DispatchMessageW");
  u32.def_window_proc = (def_window_proc_fn)(void (*)(void))GetProcAddress(m, "DefWindowProcW");
  return u32.register_class && u32.create_window && u32.get_message && u32.dispatch_message &&
         u32.def_window_proc;
}

static int start_window(void) {
  struct start st = {CreateEventW(NULL, TRUE, FALSE, NULL), 0};
  /* Held for good: the window lives as long as the process. */
  HMODULE m = LoadLibraryW(L"user32.dll");
  HANDLE t = NULL;
  if (!st.ready || !m || !bind_user32(m) || !(t = CreateThread(NULL, 0, window_main, &st, 0, NULL)))
    st.err = GetLastError() ? GetLastError() : ERROR_PROC_NOT_FOUND;
  else
    WaitForSingleObject(st.ready, INFINITE); /* set on either outcome */
  if (t) CloseHandle(t);
  if (st.ready) CloseHandle(st.ready);
  if (!st.err) return 0;
  xsig__set_os_error((int)st.err);
  return XSIG_ESYS;
}

int xsig__win32_session_watch(void) {
  if (!GetModuleHandleW(L"user32.dll") && !GetModuleHandleW(L"gdi32.dll")) return 0;
  AcquireSRWLockExclusive(&lock);
  int r = window_up ? 0 : start_window();
  window_up = r == 0;
  ReleaseSRWLockExclusive(&lock);
  return r;
}
