salt:
  minion: { id: makina }
